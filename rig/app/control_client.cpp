// rigctl's side of the control socket: plain POSIX, no Asio in rigctl.
#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rig/app/control.hpp"

namespace rig::app {

bool control_request(const std::filesystem::path& path, const std::string& request, std::string& reply) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.string().size() >= sizeof(addr.sun_path)) {
        reply = path.string() + ": path too long for a socket";
        return false;
    }
    std::strcpy(addr.sun_path, path.c_str());
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        reply = path.string() + ": no rigd is listening (" + std::strerror(errno) + ")";
        if (fd >= 0) ::close(fd);
        return false;
    }
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    const std::string line = request + "\n";
    bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    reply.clear();
    char buf[4096];
    for (ssize_t n; ok && (n = ::read(fd, buf, sizeof(buf))) != 0;) {
        if (n < 0) {
            ok = false;
            break;
        }
        reply.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    if (!ok) reply = path.string() + ": no reply from rigd (" + std::strerror(errno) + ")";
    return ok;
}

}  // namespace rig::app
