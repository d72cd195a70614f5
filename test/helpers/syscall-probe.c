/*
 * Calls the syscalls a container's isolation must refuse (or allow) and prints one line per
 * probe: NAME=ok, or NAME=ERRNO (EPERM, ENOSYS, ...). Every call is made harmless: bad magic
 * numbers, bad flags or null arguments that the kernel rejects after seccomp and capability
 * checks, so "ok" or EINVAL means "reached the kernel" and EPERM means "refused".
 * Built static by the isolation tests (gcc -static), so it runs in any image.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *name, long rc) {
  if (rc >= 0) printf("%s=ok\n", name);
  else {
    const char *e = strerrorname_np(errno);
    printf("%s=%s\n", name, e ? e : "E?");
  }
  fflush(stdout);
}

/* Each probe runs in a child, so one that succeeds (unshare, mount) changes nothing of the next. */
static void probe(const char *name, long (*fn)(void)) {
  pid_t pid = fork();
  if (pid == 0) {
    errno = 0;
    report(name, fn());
    _exit(0);
  }
  waitpid(pid, NULL, 0);
}

static long p_unshare_user(void) { return unshare(CLONE_NEWUSER); }
static long p_unshare_mount(void) { return unshare(CLONE_NEWNS); }
/* On a directory of its own, unmounted at once: even where it is allowed, nothing stays. */
static long p_mount(void) {
  char dir[] = "/tmp/probe-mnt-XXXXXX";
  if (!mkdtemp(dir)) return -1;
  long r = mount("none", dir, "tmpfs", 0, NULL);
  int saved = errno;
  if (r == 0) umount(dir);
  rmdir(dir);
  errno = saved;
  return r;
}
static long p_keyctl(void) { return syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0); }
static long p_add_key(void) { return syscall(SYS_add_key, "user", "berth-probe", "v", 1, -2 /* process */); }
static long p_bpf(void) { return syscall(SYS_bpf, 0 /* MAP_CREATE */, NULL, 0); }
/* Flags of no architecture: EINVAL once past the capability check, nothing loaded or unloaded. */
static long p_kexec_load(void) { return syscall(SYS_kexec_load, 0, 0, NULL, 0xdead0000UL); }
static long p_open_by_handle_at(void) {
  char buf[sizeof(struct file_handle) + 8] = {0};
  struct file_handle *h = (struct file_handle *)buf;
  h->handle_bytes = 8;
  return syscall(SYS_open_by_handle_at, AT_FDCWD, h, O_RDONLY);
}
/* Bad magic: EINVAL once past the capability check; never reboots. */
static long p_reboot(void) { return syscall(SYS_reboot, 0, 0, 0, NULL); }
static long p_personality(void) {
  long r = personality(READ_IMPLIES_EXEC);
  return r == -1 ? -1 : 0;
}
static long p_personality_query(void) { return personality(0xffffffff); }
static long p_socket_vsock(void) { return socket(40 /* AF_VSOCK */, SOCK_STREAM, 0); }
static long p_socket_inet(void) { return socket(AF_INET, SOCK_STREAM, 0); }
static long p_clone3(void) { return syscall(SYS_clone3, NULL, 0); }
static long p_fork(void) {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid(pid, NULL, 0);
  return pid;
}
static long p_chroot(void) { return chroot("/"); }
/* Another process, of another user: only CAP_SYS_PTRACE may trace it. */
static long p_ptrace(void) {
  pid_t pid = fork();
  if (pid == 0) {
    if (setuid(65534) != 0) _exit(1);
    pause();
    _exit(0);
  }
  usleep(100000);
  long r = ptrace(PTRACE_ATTACH, pid, NULL, NULL);
  int saved = errno;
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  errno = saved;
  return r;
}
/* The name it already has: allowed or not, nothing changes. */
static long p_sethostname(void) {
  char name[256] = {0};
  gethostname(name, sizeof name - 1);
  return sethostname(name, strlen(name));
}

int main(int argc, char **argv) {
  /* A guard: these probes are for a container's walls, not for the host. */
  if (argc < 2 || strcmp(argv[1], "--in-container") != 0) {
    fprintf(stderr, "usage: probe --in-container [PROBE...]\n");
    return 2;
  }
  argc--;
  argv++;
  struct { const char *name; long (*fn)(void); } all[] = {
    {"unshare_user", p_unshare_user}, {"unshare_mount", p_unshare_mount}, {"mount", p_mount},
    {"keyctl", p_keyctl}, {"add_key", p_add_key}, {"bpf", p_bpf}, {"kexec_load", p_kexec_load},
    {"open_by_handle_at", p_open_by_handle_at}, {"reboot", p_reboot},
    {"personality_read_implies_exec", p_personality}, {"personality_query", p_personality_query},
    {"socket_vsock", p_socket_vsock}, {"socket_inet", p_socket_inet}, {"clone3", p_clone3},
    {"fork", p_fork}, {"chroot", p_chroot}, {"ptrace_other_user", p_ptrace},
    {"sethostname", p_sethostname},
  };
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    int wanted = argc < 2;
    for (int a = 1; a < argc; a++) wanted |= strcmp(argv[a], all[i].name) == 0;
    if (wanted) probe(all[i].name, all[i].fn);
  }
  return 0;
}
