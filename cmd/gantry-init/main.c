/* gantry-init: the minimal pid 1 of `run --init`: starts the command, forwards signals to it, reaps orphans, exits with its status. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        int first = 1;
        if (first < argc && strcmp(argv[first], "--") == 0)
                first++;
        if (first >= argc) {
                fprintf(stderr, "usage: %s [--] PROGRAM [ARG...]\n", argv[0]);
                return 2;
        }
        /* Every signal we may catch waits in sigwaitinfo; the child starts with none blocked. */
        sigset_t all, old;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, &old);
        pid_t child = fork();
        if (child < 0) {
                perror("gantry-init: fork");
                return 1;
        }
        if (child == 0) {
                sigprocmask(SIG_SETMASK, &old, NULL);
                /* Its own process group in the foreground of the terminal, if any, like tini. */
                setpgid(0, 0);
                tcsetpgrp(STDIN_FILENO, getpid());
                execvp(argv[first], argv + first);
                fprintf(stderr, "gantry-init: exec %s: %s\n", argv[first], strerror(errno));
                _exit(errno == ENOENT ? 127 : 126);
        }
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&all, &si);
                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        /* Forwarded to the command, which decides; we only outlive it. */
                        kill(child, sig);
                        continue;
                }
                int status;
                pid_t pid;
                while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                        if (pid != child)
                                continue; /* an orphan reaped */
                        if (WIFEXITED(status))
                                return WEXITSTATUS(status);
                        return 128 + WTERMSIG(status);
                }
        }
}
