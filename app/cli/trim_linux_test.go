package cli

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

const sampleSmaps = `00400000-00404000 r--p 00000000 fe:00 9978344                            /opt/toasttray/toasttray
Size:                 16 kB
Rss:                  16 kB
Anonymous:             0 kB
Locked:                0 kB
VmFlags: rd mr mw me sd
00404000-00c8c000 r-xp 00004000 fe:00 9978344                            /opt/toasttray/toasttray
Rss:                8432 kB
Anonymous:             0 kB
Locked:                0 kB
VmFlags: rd ex mr mw me sd
0155d000-01cf8000 rw-p 0115c000 fe:00 9978344                            /opt/toasttray/toasttray
Rss:                 848 kB
Anonymous:           200 kB
VmFlags: rd wr mr mw me ac sd
262612800000-262613400000 rw-p 00000000 00:00 0
Rss:                4156 kB
Anonymous:          4156 kB
VmFlags: rd wr mr mw me ac sd
7f8375a45000-7f8375b5a000 r--p 00000000 fe:00 325949                     /usr/lib/x86_64-linux-gnu/libGL.so.1.7.0
Rss:                 356 kB
Anonymous:             0 kB
Locked:                0 kB
VmFlags: rd mr mw me sd
7f8375b5a000-7f8375b6a000 r--p 00115000 fe:00 325949                     /usr/lib/x86_64-linux-gnu/libGL.so.1.7.0
Rss:                  64 kB
Anonymous:            64 kB
VmFlags: rd mr mw me ac sd
7f8375c00000-7f8375c10000 r-xp 00000000 fe:00 326269                     /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                   0 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me sd
7f8375d00000-7f8375d10000 r-xp 00000000 fe:00 326270                     /usr/lib/x86_64-linux-gnu/libm.so.6
Rss:                  64 kB
Anonymous:             0 kB
Locked:               64 kB
VmFlags: rd ex mr mw me lo sd
7f8375e00000-7f8375e10000 r--s 00000000 fe:00 326271                     /usr/share/fonts/x.ttf
Rss:                  64 kB
Anonymous:             0 kB
VmFlags: rd mr me ms sd
7f8375f00000-7f8375f10000 r--p 00000000 00:05 1234                       /dev/dri/card0
Rss:                  64 kB
Anonymous:             0 kB
VmFlags: rd mr mw me io pf sd
7f8376000000-7f8376010000 r--p 00000000 fe:00 326272                     /tmp/mapped
Rss:                  64 kB
Anonymous:             0 kB
VmFlags: rd mr mw me pf sd
7f837613a000-7f837613c000 r-xp 00000000 00:00 0                          [vdso]
Rss:                   8 kB
Anonymous:             0 kB
VmFlags: rd ex mr mw me de sd
`

// Only clean, private, read-only, resident file mappings are dropped:
// not the data segment, anonymous memory, relocated (copied) pages,
// locked or shared mappings, device memory or the vDSO.
func TestCleanFileMappings(t *testing.T) {
	got, err := cleanFileMappings(strings.NewReader(sampleSmaps))
	if err != nil {
		t.Fatal(err)
	}
	want := []span{{0x400000, 0x404000}, {0x404000, 0xc8c000}, {0x7f8375a45000, 0x7f8375b5a000}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %x\nwant %x", got, want)
	}
	if _, err := cleanFileMappings(strings.NewReader("zzzz-0400 r--p 0 fe:00 1 /x\n")); err == nil {
		t.Fatal("bad range accepted")
	}
}

// On this process: its own code is among the mappings dropped, and it
// still runs (and reads its constants) afterwards.
func TestReleaseMemory(t *testing.T) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	spans, err := cleanFileMappings(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	pc := reflect.ValueOf(TestReleaseMemory).Pointer()
	found := false
	for _, s := range spans {
		found = found || (s.start <= pc && pc < s.end)
	}
	if !found {
		t.Fatalf("own code at %#x not among %x", pc, spans)
	}
	for range 2 {
		if err := releaseMemory(true); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := cleanFileMappings(strings.NewReader(sampleSmaps)); len(got) != 3 {
		t.Fatalf("after release: %d spans", len(got))
	}
}
