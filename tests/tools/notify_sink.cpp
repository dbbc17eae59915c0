// notify_sink SOCKET OUT: systemd's side of sd_notify for the tests. Binds a datagram socket
// at SOCKET and appends every message to OUT as one line ("READY=1 | STATUS=..."), with the
// seconds since it started, until SIGTERM.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: notify_sink SOCKET OUT\n");
        return 2;
    }
    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (std::strlen(argv[1]) >= sizeof addr.sun_path) {
        std::fprintf(stderr, "notify_sink: socket path too long: %s\n", argv[1]);
        return 2;
    }
    std::strcpy(addr.sun_path, argv[1]);
    unlink(argv[1]);
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("notify_sink: bind");
        return 1;
    }
    std::FILE* out = std::fopen(argv[2], "a");
    if (!out) {
        std::perror("notify_sink: open");
        return 1;
    }
    std::signal(SIGTERM, [](int) { _exit(0); });
    const auto start = std::chrono::steady_clock::now();
    char buf[4096];
    for (;;) {
        const auto n = recv(fd, buf, sizeof buf, 0);
        if (n < 0) continue;
        std::string line(buf, static_cast<std::size_t>(n));
        while (!line.empty() && line.back() == '\n') line.pop_back();
        for (std::size_t p; (p = line.find('\n')) != std::string::npos;) line.replace(p, 1, " | ");
        const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fprintf(out, "%.3f %s\n", t, line.c_str());
        std::fflush(out);
    }
}
