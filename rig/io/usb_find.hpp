// Finding and opening a USBTMC interface by VID:PID[:SERIAL] with libusb's synchronous calls.
// Private to rig/io; runs on the USB worker thread (usb::Context::blocking), never the io thread.
#pragma once
#include <cstdint>
#include <libusb.h>
#include <string>

#include "protocols/common/result.hpp"

namespace rig::io::usb {

struct UsbtmcInterface {
    libusb_device_handle* handle = nullptr;  // open, interface claimed; the caller owns it
    int interface_number = 0;
    bool usb488 = false;                     // bInterfaceProtocol 1
    std::uint8_t bulk_out = 0, bulk_in = 0, interrupt_in = 0;  // interrupt_in 0: none
    std::uint16_t bulk_in_packet = 64;
    std::uint8_t bus = 0, address = 0;
    std::string serial;
};

// Opens the one USBTMC interface matching `vid`:`pid` (and `serial` when not empty), detaching
// a kernel driver (Linux's usbtmc module binds every instrument) and claiming the interface.
// Errors start with `name` and say what was found instead.
Result<UsbtmcInterface> open_usbtmc_interface(libusb_context* ctx, std::uint16_t vid, std::uint16_t pid, const std::string& serial,
                                             const std::string& name);

}  // namespace rig::io::usb
