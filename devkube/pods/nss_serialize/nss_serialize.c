/* libzkop_nss_serialize: preloaded by the local pod runtime in front of libnss_wrapper.
 *
 * The pod runtime gives a Pod's C programs its cluster's DNS names through nss_wrapper and a
 * hosts file that the runtime replaces (atomically) as Pods come and go. nss_wrapper 1.1.12
 * reloads that file inside the lookup when it changed, without a lock: two threads looking up
 * at once while the file changes corrupt its cache (heap corruption, SIGSEGV — seen as
 * zkop-operator crashing during scale-ups). A real cluster's resolver has no such limit, so
 * the runtime makes the lookups safe rather than asking programs to avoid threads: every
 * resolver entry point nss_wrapper replaces is called here under one process-wide lock,
 * then passed on to the next definition (nss_wrapper's, or libc's without it).
 *
 * Contract: same signatures and results as libc's; lookups in one process are serialized.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netdb.h>
#include <pthread.h>
#include <sys/socket.h>

static pthread_mutex_t lookup_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))
#define SERIALIZED(type, name, call)              \
  do {                                            \
    static __typeof__(&name) next;                \
    pthread_mutex_lock(&lookup_lock);             \
    if (next == NULL) next = NEXT(name);          \
    type result_ = call;                          \
    pthread_mutex_unlock(&lookup_lock);           \
    return result_;                               \
  } while (0)

int getaddrinfo(const char* node, const char* service, const struct addrinfo* hints,
                struct addrinfo** res) {
  SERIALIZED(int, getaddrinfo, next(node, service, hints, res));
}

void freeaddrinfo(struct addrinfo* res) {
  static __typeof__(&freeaddrinfo) next;
  pthread_mutex_lock(&lookup_lock);
  if (next == NULL) next = NEXT(freeaddrinfo);
  next(res);
  pthread_mutex_unlock(&lookup_lock);
}

int getnameinfo(const struct sockaddr* addr, socklen_t addrlen, char* host, socklen_t hostlen,
                char* serv, socklen_t servlen, int flags) {
  SERIALIZED(int, getnameinfo, next(addr, addrlen, host, hostlen, serv, servlen, flags));
}

struct hostent* gethostbyname(const char* name) {
  SERIALIZED(struct hostent*, gethostbyname, next(name));
}

struct hostent* gethostbyname2(const char* name, int af) {
  SERIALIZED(struct hostent*, gethostbyname2, next(name, af));
}

int gethostbyname_r(const char* name, struct hostent* ret, char* buf, size_t buflen,
                    struct hostent** result, int* h_errnop) {
  SERIALIZED(int, gethostbyname_r, next(name, ret, buf, buflen, result, h_errnop));
}

int gethostbyname2_r(const char* name, int af, struct hostent* ret, char* buf, size_t buflen,
                     struct hostent** result, int* h_errnop) {
  SERIALIZED(int, gethostbyname2_r, next(name, af, ret, buf, buflen, result, h_errnop));
}

struct hostent* gethostbyaddr(const void* addr, socklen_t len, int type) {
  SERIALIZED(struct hostent*, gethostbyaddr, next(addr, len, type));
}

int gethostbyaddr_r(const void* addr, socklen_t len, int type, struct hostent* ret, char* buf,
                    size_t buflen, struct hostent** result, int* h_errnop) {
  SERIALIZED(int, gethostbyaddr_r, next(addr, len, type, ret, buf, buflen, result, h_errnop));
}
