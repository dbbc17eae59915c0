// USB ports: USBTMC instruments as a Stream, and hotplug arrivals. Light on purpose (no
// libusb.h, no Asio I/O objects): the libusb side lives in usb_context.* and usbtmc.cpp.
#pragma once
#include <chrono>
#include <cstdint>

#include "rig/io/stream.hpp"

namespace rig::io {

// A USBTMC (USB488) instrument seen as a byte stream, so a SCPI session runs over it as over
// TCP or a serial line. Each write() is one device-dependent message (DEV_DEP_MSG_OUT with
// EOM). The host must ask for every reply (REQUEST_DEV_DEP_MSG_IN), and IEEE 488.2 allows it
// only after a query: the stream asks once a message with a query ('?' outside quoted text)
// was written, and a read with no query outstanding waits without bus traffic. A reply the
// caller gave up on (the next message is written while it is outstanding) is aborted with
// INITIATE_ABORT_BULK_IN; a write that times out with INITIATE_ABORT_BULK_OUT. Opening runs
// INITIATE_CLEAR / CHECK_CLEAR_STATUS and clears the Bulk-OUT halt, so a session starts clean
// whatever the last one left.
class UsbtmcPort : public Stream {
public:
    // USB488 READ_STATUS_BYTE (the serial poll): the IEEE 488.2 status byte, through the
    // control pipe, or the Interrupt-IN endpoint when the interface has one.
    virtual asio::awaitable<Result<std::uint8_t>> read_status_byte(std::chrono::milliseconds timeout) = 0;
};

// usbtmc:VID:PID[:SERIAL]. Errors name the URI: no such device, several without a serial to
// choose, no USBTMC interface, no permission (a udev rule is missing), claimed by another
// program, a clear the instrument refuses.
asio::awaitable<Result<std::unique_ptr<Stream>>> open_usbtmc(asio::any_io_executor ex, const PortUri& uri, std::string name);

// Returns true once a USB device with the VID:PID of `uri` (usbtmc: or usb-serial:) arrives (a
// hotplug event), false after `timeout`, for another kind of port, or when this system reports
// no hotplug events. The caller then opens it (and checks its serial).
asio::awaitable<bool> usb_arrival(asio::any_io_executor ex, const PortUri& uri, std::chrono::milliseconds timeout);

}  // namespace rig::io
