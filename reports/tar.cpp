#include "reports/tar.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <set>
#include <unistd.h>

#include "reports/text.hpp"

namespace rig::reports {
namespace fs = std::filesystem;

namespace {

Error sys(const fs::path& file, const char* what) {
    return make_error(Errc::io_error, fmt::format("{}: {}: {}", file.string(), what, std::strerror(errno)));
}

bool ends_with(const std::string& s, std::string_view suffix) { return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0; }

}  // namespace

struct TarWriter::Impl {
    fs::path file, temp;
    archive* a = nullptr;
    int fd = -1;
    bool committed = false;
    ~Impl() {
        if (a) archive_write_free(a);
        if (fd >= 0) ::close(fd);
        if (!committed && !temp.empty()) ::unlink(temp.c_str());
    }
    Error err(const char* what) const {
        return make_error(Errc::io_error, fmt::format("{}: {}: {}", file.string(), what, a && archive_error_string(a) ? archive_error_string(a) : "unknown error"));
    }
};

TarWriter::TarWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TarWriter::TarWriter(TarWriter&&) noexcept = default;
TarWriter::~TarWriter() = default;

Result<TarWriter> TarWriter::create(const fs::path& file) {
    const auto name = file.filename().string();
    int (*filter)(archive*) = nullptr;
    if (ends_with(name, ".tar.gz") || ends_with(name, ".tgz")) filter = archive_write_add_filter_gzip;
    else if (ends_with(name, ".tar.xz")) filter = archive_write_add_filter_xz;
    else if (ends_with(name, ".tar.zst")) filter = archive_write_add_filter_zstd;
    else if (!ends_with(name, ".tar"))
        return make_error(Errc::invalid_argument, fmt::format("{}: a bundle's name ends in .tar, .tar.gz, .tgz, .tar.xz or .tar.zst", file.string()));
    auto impl = std::make_unique<Impl>();
    impl->file = file;
    impl->temp = file.parent_path() / fmt::format(".{}.tmp-{}", name, ::getpid());
    impl->fd = ::open(impl->temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (impl->fd < 0) {
        impl->temp.clear();
        return sys(file, "cannot create");
    }
    impl->a = archive_write_new();
    if (archive_write_set_format_pax_restricted(impl->a) != ARCHIVE_OK) return impl->err("tar format");
    if (filter && filter(impl->a) != ARCHIVE_OK) return impl->err("compression");
    if (archive_write_open_fd(impl->a, impl->fd) != ARCHIVE_OK) return impl->err("open");
    return TarWriter(std::move(impl));
}

Result<void> TarWriter::add(const std::string& path, std::string_view content, std::time_t mtime) {
    if (auto why = bundle_path_problem(path); !why.empty()) return make_error(Errc::invalid_argument, fmt::format("bundle entry {}", why));
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_mtime(e, mtime, 0);
    const bool header = archive_write_header(impl_->a, e) == ARCHIVE_OK;
    archive_entry_free(e);
    if (!header) return impl_->err("write");
    if (archive_write_data(impl_->a, content.data(), content.size()) != static_cast<la_ssize_t>(content.size())) return impl_->err("write");
    return {};
}

Result<void> TarWriter::commit() {
    if (archive_write_close(impl_->a) != ARCHIVE_OK) return impl_->err("write");
    if (::fsync(impl_->fd) != 0) return sys(impl_->file, "fsync");
    ::close(impl_->fd);
    impl_->fd = -1;
    if (::rename(impl_->temp.c_str(), impl_->file.c_str()) != 0) return sys(impl_->file, "cannot rename into place");
    impl_->committed = true;
    const auto dir = impl_->file.parent_path().empty() ? fs::path(".") : impl_->file.parent_path();
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return {};
}

std::string bundle_path_problem(std::string_view path) {
    if (path.empty()) return "'' is an empty path";
    if (path.size() > 255) return fmt::format("'{}...' is longer than 255 characters", printable(path.substr(0, 40)));
    std::size_t start = 0;
    while (start <= path.size()) {
        auto slash = path.find('/', start);
        auto part = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (part.empty() || part == "." || part == "..")
            return fmt::format("'{}' is not a plain relative path (empty, '.' or '..' part, or a leading '/')", printable(path));
        for (char c : part)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
                return fmt::format("'{}' has a character outside [A-Za-z0-9._-/]", printable(path));
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return {};
}

Result<std::vector<TarEntry>> read_tar(const fs::path& file, const TarLimits& limits) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) return make_error(Errc::not_found, fmt::format("{}: no such bundle (not a regular file)", file.string()));
    std::unique_ptr<archive, int (*)(archive*)> a(archive_read_new(), archive_read_free);
    archive_read_support_filter_all(a.get());
    archive_read_support_format_tar(a.get());
    if (archive_read_open_filename(a.get(), file.c_str(), 64 * 1024) != ARCHIVE_OK) {
        const std::string why = archive_error_string(a.get()) ? archive_error_string(a.get()) : "unknown error";
        if (why.find("runcated") != std::string::npos)
            return make_error(Errc::integrity, fmt::format("{}: damaged or truncated bundle (at its start): {}", file.string(), why));
        return make_error(Errc::integrity, fmt::format("{}: not a tar bundle: {}", file.string(), why));
    }
    std::vector<TarEntry> out;
    std::set<std::string> seen;
    std::size_t total = 0;
    std::string last = "its first entry";
    auto damaged = [&](const char* what) {
        const char* why = archive_error_string(a.get());
        return make_error(Errc::integrity, fmt::format("{}: damaged or truncated bundle ({} after {}): {}", file.string(), what, last, why ? why : "unknown error"));
    };
    archive_entry* e = nullptr;
    for (;;) {
        const int rc = archive_read_next_header(a.get(), &e);
        if (rc == ARCHIVE_EOF) break;
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return damaged("reading the entry");
        const char* name = archive_entry_pathname(e);
        std::string path = name ? name : "";
        const auto type = archive_entry_filetype(e);
        if (type == AE_IFDIR) continue;
        const auto where = fmt::format("{}: entry '{}'", file.string(), printable(path));
        if (type != AE_IFREG) return make_error(Errc::integrity, fmt::format("{}: not a regular file (a link or device has no place in a bundle)", where));
        if (auto why = bundle_path_problem(path); !why.empty()) return make_error(Errc::integrity, fmt::format("{}: {}", file.string(), why));
        if (!seen.insert(path).second) return make_error(Errc::integrity, fmt::format("{}: appears twice", where));
        const auto size = archive_entry_size(e);
        if (size < 0 || static_cast<std::size_t>(size) > limits.max_entry)
            return make_error(Errc::integrity, fmt::format("{}: {} bytes, over the limit of {}", where, size, limits.max_entry));
        total += static_cast<std::size_t>(size);
        if (total > limits.max_total || out.size() >= limits.max_entries)
            return make_error(Errc::integrity, fmt::format("{}: the bundle is larger than {} bytes or {} files", file.string(), limits.max_total, limits.max_entries));
        TarEntry t{path, std::string(static_cast<std::size_t>(size), '\0')};
        std::size_t got = 0;
        while (got < t.content.size()) {
            const auto n = archive_read_data(a.get(), t.content.data() + got, t.content.size() - got);
            if (n < 0) return damaged(fmt::format("reading '{}'", printable(path)).c_str());
            if (n == 0) break;
            got += static_cast<std::size_t>(n);
        }
        if (got != t.content.size()) return damaged(fmt::format("reading '{}'", printable(path)).c_str());
        last = "'" + printable(path) + "'";
        out.push_back(std::move(t));
    }
    return out;
}

}  // namespace rig::reports
