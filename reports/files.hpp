// Files that must survive a crash or a full disk whole or not at all, and bounded reads of
// files QA hands us (a certificate path may be /dev/zero).
#pragma once
#include <filesystem>
#include <string>
#include <vector>
#include <sys/types.h>

#include "protocols/common/result.hpp"

namespace rig::reports {

// Writes `content` to a temporary file beside `file`, fsyncs it, renames it over `file` and
// fsyncs the directory: a reader sees the old file or the new one, never a part. The file gets
// exactly `mode`, whatever the umask.
Result<void> write_file_atomic(const std::filesystem::path& file, std::string_view content, mode_t mode = 0644);

// Many files, each atomically as above, durable with one syncfs for all of them and one fsync
// per directory, instead of two fsyncs each: the archive writer's group commit. One result per
// file, in order.
struct FileWrite {
    std::filesystem::path file;
    std::string content;
    mode_t mode = 0644;
};
std::vector<Result<void>> write_files_atomic(const std::vector<FileWrite>& files);

// Creates a directory (and its parents) and gives it exactly `mode`, whatever the umask.
Result<void> make_directory(const std::filesystem::path& dir, mode_t mode);

// Reads a regular file of at most max_bytes; anything else (a directory, a device, a FIFO, a
// file too large) is an error naming the path.
inline constexpr std::size_t kMaxCertificateFile = 16 * 1024 * 1024;
Result<std::string> read_file(const std::filesystem::path& file, std::size_t max_bytes = kMaxCertificateFile);

// Crash tests: when the environment variable RIG_CRASH_AT is a prefix of this point's name, the
// process kills itself with SIGKILL here, as a power cut would (tests/e2e/tamper.sh
// crash_recovery). Points: after_binding, after_commit, before_rename:FILENAME.
void crash_point(const char* name);

}  // namespace rig::reports
