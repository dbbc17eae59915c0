// Tar files through libarchive, for export bundles. Written to a temporary file beside the
// target and renamed into place only once complete and synced: a failed or killed export
// leaves no partial bundle. Read with every entry checked: only regular files with plain
// relative paths, no duplicates, bounded sizes; a damaged or truncated archive is an error
// naming the file and the last entry read whole.
#pragma once
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "protocols/common/result.hpp"

namespace rig::reports {

class TarWriter {
public:
    // The compression follows the name: .tar, .tar.gz or .tgz, .tar.xz, .tar.zst; anything else
    // is an error naming the file.
    static Result<TarWriter> create(const std::filesystem::path& file);
    TarWriter(TarWriter&&) noexcept;
    ~TarWriter();  // removes the temporary file unless committed
    // A regular file, mode 0644, owner 0:0, at `mtime` (the same bytes for the same content).
    Result<void> add(const std::string& path, std::string_view content, std::time_t mtime);
    // Finishes the archive, syncs it, renames it over the target and syncs the directory.
    Result<void> commit();

private:
    struct Impl;
    explicit TarWriter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

struct TarEntry {
    std::string path;
    std::string content;
};

struct TarLimits {
    std::size_t max_entry = 16 * 1024 * 1024;
    std::size_t max_total = std::size_t{4} << 30;
    std::size_t max_entries = 20'000'000;
};

// Every regular file of the archive, in archive order (directory entries are skipped).
Result<std::vector<TarEntry>> read_tar(const std::filesystem::path& file, const TarLimits& limits = {});

// A path inside a bundle: relative, '/'-separated parts of [A-Za-z0-9._-] that are not "." or
// "..". Returns why not, or an empty string.
std::string bundle_path_problem(std::string_view path);

}  // namespace rig::reports
