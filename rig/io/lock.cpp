#include "rig/io/lock.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

namespace rig::io {
namespace fs = std::filesystem;

std::vector<int> holders_of(const fs::path& path) {
    std::vector<int> pids;
    std::error_code ec;
    const auto target = fs::canonical(path, ec);
    if (ec) return pids;
    const int self = ::getpid();
    for (const auto& proc : fs::directory_iterator("/proc", ec)) {
        const auto name = proc.path().filename().string();
        if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
        const int pid = std::stoi(name);
        if (pid == self) continue;
        std::error_code fec;
        for (const auto& fd : fs::directory_iterator(proc.path() / "fd", fec)) {
            std::error_code lec;
            if (fs::read_symlink(fd.path(), lec) == target) {
                pids.push_back(pid);
                break;
            }
        }
    }
    return pids;
}

Result<void> lock_fd(int fd, const fs::path& path, const std::string& what) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return {};
    if (errno != EWOULDBLOCK) return make_error(Errc::io_error, fmt::format("{}: cannot lock: {}", what, std::strerror(errno)));
    const auto pids = holders_of(path);
    return make_error(Errc::io_error, fmt::format("{}: in use by another process{}", what,
                                                  pids.empty() ? std::string{} : fmt::format(" (pid {})", fmt::join(pids, ", "))));
}

Result<PidLock> PidLock::acquire(const fs::path& file, const std::string& what) {
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return make_error(Errc::io_error, fmt::format("{}: cannot open lock file: {}", file.string(), std::strerror(errno)));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char buf[32] = {};
        const auto n = ::pread(fd, buf, sizeof buf - 1, 0);
        ::close(fd);
        std::string pid = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
        while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
        return make_error(Errc::io_error, fmt::format("{}: in use by {} (pid {}, lock {})", what, "another rigd", pid.empty() ? "unknown" : pid,
                                                      file.string()));
    }
    const auto text = fmt::format("{}\n", ::getpid());
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
        ::close(fd);
        return make_error(Errc::io_error, fmt::format("{}: cannot write lock file", file.string()));
    }
    return PidLock(fd);
}

PidLock::~PidLock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace rig::io
