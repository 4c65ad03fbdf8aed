/*
 * bcryptprimitives.dll for Wine 8, which lacks it: Go 1.22+ programs call
 * ProcessPrng from it at start-up (and load it from system32 only), so
 * without this stand-in no Go .exe runs. scripts/wine/run builds it with
 * mingw-w64 into the test's private Wine prefix; never shipped.
 */
#include <windows.h>

/* RtlGenRandom: advapi32's SystemFunction036, which Wine implements. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
