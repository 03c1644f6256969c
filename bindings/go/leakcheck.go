package stemma

/*
// LeakSanitizer's entry point, weak so the package links without ASan (it is then NULL).
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static int stemma_go_leak_check(void) {
  return __lsan_do_recoverable_leak_check ? __lsan_do_recoverable_leak_check() : 0;
}
*/
import "C"

// leakCheck runs LeakSanitizer now when the process has it (a sanitizer build's tests preload
// it) and reports whether it found leaks; without it, it reports false. Go programs end with
// the exit system call, past the atexit hook where LSan would otherwise look, so the tests
// call this before they exit.
func leakCheck() bool { return C.stemma_go_leak_check() != 0 }
