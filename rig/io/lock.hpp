// Exclusive locks on a data directory and on device ports, so two rigd never share a station's
// archive or a jig, and the refusal names who holds it.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "protocols/common/result.hpp"

namespace rig::io {

// Pids of other processes that have `path` open (from /proc/*/fd); empty when none or unknown.
std::vector<int> holders_of(const std::filesystem::path& path);

// Takes flock(LOCK_EX|LOCK_NB) on an open descriptor. `what` names the thing in the error:
// "serial:/dev/ttyACM0: in use by another process (pid 4242)".
Result<void> lock_fd(int fd, const std::filesystem::path& path, const std::string& what);

// A lock file holding the owner's pid (DATA/rigd.lock); released when the object dies.
class PidLock {
public:
    static Result<PidLock> acquire(const std::filesystem::path& file, const std::string& what);
    PidLock(PidLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    PidLock& operator=(PidLock&&) = delete;
    ~PidLock();

private:
    explicit PidLock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace rig::io
