// Byte-stream transports (serial, tcp) behind one small interface, so drivers never touch a
// file descriptor and this header stays light: no Asio I/O objects in it.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <span>
#include <string>

#include "protocols/common/bytes.hpp"
#include "protocols/common/result.hpp"

namespace rig::io {

namespace asio = boost::asio;

class Stream {
public:
    virtual ~Stream() = default;
    // Reads what is available, waiting at most `timeout`. A timeout is Errc::timeout; a closed
    // or vanished port is Errc::io_error naming the port.
    virtual asio::awaitable<Result<std::size_t>> read_some(std::span<std::byte> buffer, std::chrono::milliseconds timeout) = 0;
    virtual asio::awaitable<Result<void>> write(ByteView bytes, std::chrono::milliseconds timeout) = 0;
    virtual void close() = 0;
    // A small write straight to the descriptor, from any thread, never blocking (the backup
    // heartbeat thread uses it while the io thread may be stalled). A tty write() of a few bytes
    // is one atomic chunk relative to other writers. False when it could not be written whole.
    virtual bool write_from_any_thread(ByteView bytes) = 0;
    virtual const std::string& name() const = 0;  // the URI it was opened with
};

struct PortUri {
    enum class Scheme { serial, tcp, usb_serial, usbtmc };
    Scheme scheme;
    std::string path;       // device path, or host for tcp
    std::uint16_t port = 0; // tcp
    unsigned baud = 115200;
    std::string vid, pid, serial;  // usb-serial, usbtmc: lower-case hex
};

// serial:/dev/ttyACM0?baud=115200, tcp:127.0.0.1:5761, usb-serial:0483:5740[:SERIAL],
// usbtmc:2a8d:1602[:SERIAL]
Result<PortUri> parse_uri(const std::string& uri);

// What names one device, whatever the options: the scheme and the device path with symlinks
// resolved (/dev/serial/by-id/... is the ttyACM it points to), or the host and port.
std::string device_key(const std::string& uri);

// Opens a port; errors name the URI and the system's reason. `name`, when given, is what the
// stream calls itself in its errors instead of the URI (the slcan: bus over its serial: tty).
asio::awaitable<Result<std::unique_ptr<Stream>>> open(asio::any_io_executor ex, const std::string& uri, std::string name = "");

}  // namespace rig::io
