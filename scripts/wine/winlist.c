/*
 * winlist.exe [FILE]: write "class<TAB>title" of every visible top-level
 * window of its desktop, one a line, to FILE (default stdout), so
 * scripts/wine/run can wait for a window of the app under test: inside
 * Wine's virtual desktop they are not X windows, and a program started
 * there by explorer.exe has no stdout to read. Test tool, built with
 * mingw-w64 at test time; never shipped.
 */
#include <windows.h>
#include <stdio.h>

static BOOL CALLBACK print_window(HWND w, LPARAM out)
{
	char class_name[256], title[512];
	if (!IsWindowVisible(w))
		return TRUE;
	if (!GetClassNameA(w, class_name, sizeof class_name))
		class_name[0] = 0;
	if (GetWindowTextA(w, title, sizeof title) <= 0)
		title[0] = 0;
	fprintf((FILE *)out, "%s\t%s\n", class_name, title);
	return TRUE;
}

int main(int argc, char **argv)
{
	FILE *out = stdout;
	if (argc > 1 && !(out = fopen(argv[1], "w")))
		return 2;
	if (!EnumWindows(print_window, (LPARAM)out))
		return 1;
	return fclose(out) == 0 ? 0 : 1;
}
