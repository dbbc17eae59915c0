// USB HID barcode scanners read directly through evdev (libevdev), so their keys never reach a
// console or a desktop: the device is grabbed exclusively. Light on purpose: no libevdev.h, no
// Asio I/O objects here.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "protocols/common/result.hpp"

namespace rig::io {

namespace asio = boost::asio;

struct InputEvent {
    std::uint16_t type = 0, code = 0;
    std::int32_t value = 0;
    friend bool operator==(const InputEvent&, const InputEvent&) = default;
};

class EvdevInput {
public:
    // Opens /dev/input/eventN (or a /dev/input/by-id link to it), checks it is a keyboard (it
    // has an Enter key and letters), and grabs it (EVIOCGRAB). Errors name the path: missing,
    // no permission (the user is not in group input), no keyboard, held by another program.
    static Result<std::unique_ptr<EvdevInput>> open(asio::any_io_executor ex, const std::string& path);
    virtual ~EvdevInput() = default;
    // The events that arrive within `timeout` (none: an empty list). Events the kernel dropped
    // come as one EV_SYN/SYN_DROPPED, then the key state libevdev resynchronised. A device
    // unplugged is Errc::io_error naming it.
    virtual asio::awaitable<Result<std::vector<InputEvent>>> read(std::chrono::milliseconds timeout) = 0;
    virtual const std::string& name() const = 0;  // the device's own name ("Honeywell ... Scanner")
    virtual void close() = 0;
};

}  // namespace rig::io
