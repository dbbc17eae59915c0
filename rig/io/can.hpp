// CAN buses behind one interface, with two transports: a Lawicel/SLCAN adapter on a tty
// (slcan:/dev/ttyACM1?bitrate=1000000) and Linux SocketCAN (socketcan:can0). Either carries a
// frame-level sans-IO session (the DroneCAN node) through the one I/O pump; Asio stays in
// can.cpp.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "protocols/common/can_session.hpp"
#include "protocols/common/result.hpp"
#include "rig/io/stream.hpp"

namespace rig::io {

namespace asio = boost::asio;

struct CanUri {
    enum class Scheme { slcan, socketcan };
    Scheme scheme = Scheme::slcan;
    std::string path;          // slcan: the adapter's tty; socketcan: the interface name
    unsigned bitrate = 1'000'000;  // slcan only: SocketCAN's rate is the interface's (ip link)
    unsigned baud = 115200;    // slcan only: the tty's rate (a USB CDC adapter ignores it)
};

// slcan:/dev/ttyACM1[?bitrate=N][&baud=N], socketcan:can0. Errors name the URI and the part.
Result<CanUri> parse_can_uri(const std::string& uri);

class CanBus {
public:
    using Log = std::function<void(const std::string&)>;
    virtual ~CanBus() = default;
    // Waits for request `id` of the session (queued already) to complete, as io::Pump::wait.
    virtual asio::awaitable<Result<Bytes>> wait(session::RequestId id) = 0;
    // The session has new frames to send or an earlier deadline.
    virtual void kick() = 0;
    virtual const std::string& name() const = 0;  // the URI
    // Why the bus was lost (adapter unplugged, interface down), else empty.
    virtual const std::string& lost() const = 0;
};

// Opens the bus and carries `session`'s frames until the bus is destroyed; the session must
// outlive it. slcan: opens the tty, then the adapter's channel (C, S<n>, O), and returns once the
// adapter accepted all three; socketcan: binds a raw CAN socket to the interface. Errors name
// the URI and the reason (no such port, no adapter answering, refused bitrate, no AF_CAN).
asio::awaitable<Result<std::unique_ptr<CanBus>>> open_can(asio::any_io_executor ex, const std::string& uri, CanSession& session,
                                                          CanBus::Log log);

// SocketCAN's carriage over an open datagram stream whose every read is one struct can_frame:
// what socketcan: runs on once its socket is bound. Exposed so that it is tested where there is
// no AF_CAN, over a SOCK_SEQPACKET socketpair standing in for the CAN socket.
std::unique_ptr<CanBus> frame_bus(asio::any_io_executor ex, std::string name, std::unique_ptr<Stream> stream, CanSession& session,
                                  CanBus::Log log);

// Linux's struct can_frame (16 bytes: id with EFF/RTR/ERR flags, DLC, 3 pad bytes, 8 data
// bytes) as bytes, for the SocketCAN transport; exposed for its unit test.
namespace socketcan {
inline constexpr std::size_t kFrameSize = 16;
Bytes encode(const CanFrame& f);
// nullopt for an error frame (CAN_ERR_FLAG) or a DLC above 8; `error` gets the error class.
std::optional<CanFrame> decode(ByteView sixteen, std::string* error = nullptr);
}  // namespace socketcan

}  // namespace rig::io
