#include "reports/files.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>

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

namespace {
fs::path temp_for(const fs::path& file) { return file.parent_path() / fmt::format(".{}.tmp-{}", file.filename().string(), ::getpid()); }

// Writes the temporary file beside `file`, fsynced when `sync`; on failure it is gone.
Result<void> write_temp(const fs::path& file, std::string_view content, mode_t mode, bool sync) {
    const fs::path tmp = temp_for(file);
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
    if (sync && ::fsync(fd) != 0) return fail("cannot sync");
    if (::close(fd) != 0) {
        Error e = sys_error(file, "cannot close");
        ::unlink(tmp.c_str());
        return e;
    }
    return {};
}

Result<void> rename_temp(const fs::path& file) {
    crash_point(("before_rename:" + file.filename().string()).c_str());
    const fs::path tmp = temp_for(file);
    if (::rename(tmp.c_str(), file.c_str()) != 0) {
        Error e = sys_error(file, "cannot rename into place");
        ::unlink(tmp.c_str());
        return e;
    }
    return {};
}
}  // namespace

Result<void> write_file_atomic(const fs::path& file, std::string_view content, mode_t mode) {
    if (auto w = write_temp(file, content, mode, true); !w) return w;
    if (auto r = rename_temp(file); !r) return r;
    return fsync_dir(file.parent_path());
}

std::vector<Result<void>> write_files_atomic(const std::vector<FileWrite>& files) {
    std::vector<Result<void>> out;
    out.reserve(files.size());
    for (const auto& f : files) out.push_back(write_temp(f.file, f.content, f.mode, false));
    // Calls fn once per directory holding a file still on its way; its error fails those files.
    auto each_dir = [&](auto&& fn) {
        std::vector<fs::path> seen;
        for (std::size_t i = 0; i < files.size(); ++i) {
            const auto d = files[i].file.parent_path();
            if (!out[i] || std::find(seen.begin(), seen.end(), d) != seen.end()) continue;
            seen.push_back(d);
            if (auto r = fn(d); !r)
                for (std::size_t j = 0; j < files.size(); ++j)
                    if (out[j] && files[j].file.parent_path() == d) out[j] = r.error();
        }
    };
    // One sync of each file system for all its temporary files, instead of one fsync each (per
    // directory: the certificates and checkpoints may be on different file systems).
    each_dir([](const fs::path& d) -> Result<void> {
        const int fd = ::open(d.empty() ? "." : d.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        const bool synced = fd >= 0 && ::syncfs(fd) == 0;
        Result<void> r;
        if (!synced) r = sys_error(d, "cannot sync the file system");
        if (fd >= 0) ::close(fd);
        return r;
    });
    for (std::size_t i = 0; i < files.size(); ++i)
        if (!out[i]) ::unlink(temp_for(files[i].file).c_str());
        else out[i] = rename_temp(files[i].file);
    each_dir([](const fs::path& d) { return fsync_dir(d); });
    return out;
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
