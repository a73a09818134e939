// Links every object of handoff_supervisor_core (--whole-archive) and nothing of libuv
// or platform/: a core file that calls either leaves an undefined symbol, and this
// program, built with the rest, fails to link. It never runs.
int main() { return 0; }
