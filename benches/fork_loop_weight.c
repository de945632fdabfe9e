/* The C fork loop (benches/fork_loop.c) made heavier as procsim's forking processes are, to
 * price what they carry: PAGES more resident anonymous pages, VMAS more small mappings (half
 * of them written), and WRITES pages the parent writes after each fork (resident pages of their
 * own, beyond PAGES). Pinned to CPU.
 * Prints the CPU time (its own and its children's, user + system) in microseconds a child.
 * Usage: fork_loop_weight N CPU PAGES VMAS WRITES (benches/fork_loop_weight.py runs it).
 * Built at bench time; never committed as a binary. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int n = atoi(argv[1]);
    cpu_set_t set; CPU_ZERO(&set); CPU_SET(atoi(argv[2]), &set); sched_setaffinity(0, sizeof set, &set);
    int pages = atoi(argv[3]), vmas = atoi(argv[4]), writes = atoi(argv[5]);
    char *big = mmap(0, (pages + writes + 1) * 4096L, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
    for (int i = 0; i < pages + writes; i++) big[i * 4096L] = 1;
    for (int i = 0; i < vmas; i++) {
        char *p = mmap(0, 8192, i % 2 ? PROT_READ : PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
        if (i % 2 == 0) p[0] = 1;
    }
    for (int i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        for (int w = 0; w < writes; w++) big[(pages + w) * 4096L] = 2;
        int st; waitpid(pid, &st, 0);
    }
    struct rusage a, b; getrusage(RUSAGE_SELF, &a); getrusage(RUSAGE_CHILDREN, &b);
    double us = (a.ru_utime.tv_sec + b.ru_utime.tv_sec + a.ru_stime.tv_sec + b.ru_stime.tv_sec) * 1e6
              + a.ru_utime.tv_usec + b.ru_utime.tv_usec + a.ru_stime.tv_usec + b.ru_stime.tv_usec;
    printf("%.1f\n", us / n);
    return 0;
}
