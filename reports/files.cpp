#include "reports/files.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rig::reports {
namespace fs = std::filesystem;

namespace {
Error sys_error(const fs::path& p, const char* what) {
    return make_error(Errc::io_error, fmt::format("{}: {}: {}", p.string(), what, std::strerror(errno)));
}

Result<void> fsync_dir(const fs::path& dir) {
    const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return sys_error(dir, "cannot open directory to sync it");
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) return sys_error(dir, "cannot sync directory");
    return {};
}
}  // namespace

Result<void> write_file_atomic(const fs::path& file, std::string_view content, mode_t mode) {
    const fs::path dir = file.parent_path();
    const fs::path tmp = dir / fmt::format(".{}.tmp-{}", file.filename().string(), ::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) return sys_error(tmp, "cannot create");
    auto fail = [&](const char* what) {
        Error e = sys_error(file, what);
        ::close(fd);
        ::unlink(tmp.c_str());
        return e;
    };
    if (::fchmod(fd, mode) != 0) return fail("cannot set mode");
    std::size_t off = 0;
    while (off < content.size()) {
        const auto n = ::write(fd, content.data() + off, content.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return fail("cannot write");
        }
        off += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) return fail("cannot sync");
    crash_point(("before_rename:" + file.filename().string()).c_str());
    if (::close(fd) != 0) {
        Error e = sys_error(file, "cannot close");
        ::unlink(tmp.c_str());
        return e;
    }
    if (::rename(tmp.c_str(), file.c_str()) != 0) {
        Error e = sys_error(file, "cannot rename into place");
        ::unlink(tmp.c_str());
        return e;
    }
    return fsync_dir(dir);
}

Result<void> make_directory(const fs::path& dir, mode_t mode) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return make_error(Errc::io_error, fmt::format("{}: cannot create directory: {}", dir.string(), ec.message()));
    if (::chmod(dir.c_str(), mode) != 0) return sys_error(dir, "cannot set directory mode");
    return {};
}

Result<std::string> read_file(const fs::path& file, std::size_t max_bytes) {
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) return make_error(Errc::not_found, fmt::format("{}: cannot open", file.string()));
        return sys_error(file, "cannot open");
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        Error e = sys_error(file, "cannot stat");
        ::close(fd);
        return e;
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        return make_error(Errc::invalid_argument, fmt::format("{}: not a regular file", file.string()));
    }
    if (static_cast<std::size_t>(st.st_size) > max_bytes) {
        ::close(fd);
        return make_error(Errc::invalid_argument, fmt::format("{}: {} bytes, more than the {} a certificate file may have", file.string(),
                                                              st.st_size, max_bytes));
    }
    std::string out;
    char buf[65536];
    for (;;) {
        const auto n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            Error e = sys_error(file, "cannot read");
            ::close(fd);
            return e;
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > max_bytes) {
            ::close(fd);
            return make_error(Errc::invalid_argument, fmt::format("{}: more than the {} bytes a certificate file may have", file.string(), max_bytes));
        }
    }
    ::close(fd);
    return out;
}

void crash_point(const char* name) {
    const char* at = std::getenv("RIG_CRASH_AT");
    if (at && *at && std::strncmp(at, name, std::strlen(at)) == 0) ::kill(::getpid(), SIGKILL);
}

}  // namespace rig::reports
