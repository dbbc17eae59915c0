// Waiting for a device node to appear without polling: inotify on the directory that will hold
// it (udev creates /dev/ttyACM0 and its /dev/serial/by-id link when the device enumerates).
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <filesystem>

namespace rig::io {

// Returns once `path` exists, or something was created, moved in or had its attributes changed
// in the directory that holds it (its nearest existing ancestor while that directory does not
// exist yet), or after `timeout`. The caller then tries to open the port again.
boost::asio::awaitable<void> path_changed(boost::asio::any_io_executor ex, const std::filesystem::path& path, std::chrono::milliseconds timeout);

}  // namespace rig::io
