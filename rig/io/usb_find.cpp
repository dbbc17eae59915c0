#include "rig/io/usb_find.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <memory>
#include <vector>

#include "rig/io/usb_context.hpp"

namespace rig::io::usb {
namespace {

constexpr std::uint8_t kClassApplication = 0xFE, kSubclassUsbtmc = 0x03, kProtocolUsb488 = 0x01;

struct Candidate {
    libusb_device* dev;
    std::uint8_t bus, address;
    int interface_number = -1;  // -1: this VID:PID has no USBTMC interface
    bool usb488 = false;
    std::uint8_t bulk_out = 0, bulk_in = 0, interrupt_in = 0;
    std::uint16_t bulk_in_packet = 64;
    std::uint8_t serial_index = 0;
};

void find_interface(libusb_device* dev, Candidate& c) {
    libusb_config_descriptor* cfg = nullptr;
    if (libusb_get_active_config_descriptor(dev, &cfg) != 0 && libusb_get_config_descriptor(dev, 0, &cfg) != 0) return;
    std::unique_ptr<libusb_config_descriptor, decltype(&libusb_free_config_descriptor)> owned(cfg, &libusb_free_config_descriptor);
    for (int i = 0; i < cfg->bNumInterfaces; ++i) {
        for (int a = 0; a < cfg->interface[i].num_altsetting; ++a) {
            const auto& d = cfg->interface[i].altsetting[a];
            if (d.bInterfaceClass != kClassApplication || d.bInterfaceSubClass != kSubclassUsbtmc) continue;
            Candidate found = c;
            found.interface_number = d.bInterfaceNumber;
            found.usb488 = d.bInterfaceProtocol == kProtocolUsb488;
            for (int e = 0; e < d.bNumEndpoints; ++e) {
                const auto& ep = d.endpoint[e];
                const auto type = ep.bmAttributes & LIBUSB_TRANSFER_TYPE_MASK;
                const bool in = ep.bEndpointAddress & LIBUSB_ENDPOINT_IN;
                if (type == LIBUSB_TRANSFER_TYPE_BULK && in && !found.bulk_in) {
                    found.bulk_in = ep.bEndpointAddress;
                    found.bulk_in_packet = ep.wMaxPacketSize ? ep.wMaxPacketSize : 64;
                } else if (type == LIBUSB_TRANSFER_TYPE_BULK && !in && !found.bulk_out) {
                    found.bulk_out = ep.bEndpointAddress;
                } else if (type == LIBUSB_TRANSFER_TYPE_INTERRUPT && in && !found.interrupt_in) {
                    found.interrupt_in = ep.bEndpointAddress;
                }
            }
            if (found.bulk_in && found.bulk_out) {
                c = found;
                return;
            }
        }
    }
}

std::string read_serial(libusb_device_handle* h, std::uint8_t index) {
    if (index == 0) return "";
    std::array<unsigned char, 128> buf{};
    const int n = libusb_get_string_descriptor_ascii(h, index, buf.data(), static_cast<int>(buf.size()));
    return n > 0 ? std::string(reinterpret_cast<const char*>(buf.data()), static_cast<std::size_t>(n)) : std::string{};
}

std::string where(const Candidate& c) { return fmt::format("bus {} device {}", c.bus, c.address); }

}  // namespace

Result<UsbtmcInterface> open_usbtmc_interface(libusb_context* ctx, std::uint16_t vid, std::uint16_t pid, const std::string& serial,
                                             const std::string& name) {
    libusb_device** list = nullptr;
    const auto n = libusb_get_device_list(ctx, &list);
    if (n < 0) return make_error(Errc::io_error, fmt::format("{}: cannot list USB devices: {}", name, error_text(static_cast<int>(n))));
    std::unique_ptr<libusb_device*, void (*)(libusb_device**)> owned(list, [](libusb_device** l) { libusb_free_device_list(l, 1); });
    std::vector<Candidate> candidates;
    for (ssize_t i = 0; i < n; ++i) {
        libusb_device_descriptor d{};
        if (libusb_get_device_descriptor(list[i], &d) != 0 || d.idVendor != vid || d.idProduct != pid) continue;
        Candidate c{list[i], libusb_get_bus_number(list[i]), libusb_get_device_address(list[i])};
        c.serial_index = d.iSerialNumber;
        find_interface(list[i], c);
        candidates.push_back(c);
    }
    std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) { return std::pair(a.bus, a.address) < std::pair(b.bus, b.address); });
    const auto id = fmt::format("{:04x}:{:04x}", vid, pid);
    if (candidates.empty()) return make_error(Errc::not_found, fmt::format("{}: no USB device {} is connected", name, id));

    // Open each USBTMC candidate (the serial is a string descriptor: it needs an open device).
    std::vector<std::string> seen;
    std::vector<UsbtmcInterface> matches;
    std::string open_error;
    for (const auto& c : candidates) {
        if (c.interface_number < 0) {
            seen.push_back(fmt::format("{} has no USBTMC interface (class FE subclass 03)", where(c)));
            continue;
        }
        libusb_device_handle* h = nullptr;
        if (const int e = libusb_open(c.dev, &h); e != 0) {
            open_error = fmt::format("{}: cannot open USB device {} on {}: {}{}", name, id, where(c), error_text(e),
                                     e == LIBUSB_ERROR_ACCESS ? " (the station user needs a udev rule granting access)" : "");
            continue;
        }
        UsbtmcInterface f{h, c.interface_number, c.usb488, c.bulk_out, c.bulk_in, c.interrupt_in, c.bulk_in_packet, c.bus, c.address, read_serial(h, c.serial_index)};
        if (!serial.empty() && f.serial != serial) {
            seen.push_back(fmt::format("{} has serial '{}'", where(c), f.serial));
            libusb_close(h);
            continue;
        }
        matches.push_back(f);
    }
    if (matches.empty()) {
        if (!open_error.empty()) return make_error(Errc::io_error, open_error);
        std::string what;
        for (const auto& s : seen) what += (what.empty() ? "" : "; ") + s;
        return make_error(Errc::not_found, fmt::format("{}: no USBTMC device {}{} ({})", name, id, serial.empty() ? "" : " with serial '" + serial + "'", what));
    }
    if (matches.size() > 1) {
        std::string serials;
        for (auto& m : matches) {
            serials += (serials.empty() ? "" : ", ") + (m.serial.empty() ? std::string("(none)") : m.serial);
            libusb_close(m.handle);
        }
        return make_error(Errc::invalid_argument,
                          fmt::format("{}: {} USBTMC devices {} are connected (serials {}): name one, usbtmc:{}:SERIAL", name, matches.size(), id, serials, id));
    }
    auto f = matches.front();
    // Linux's usbtmc driver binds every instrument: libusb detaches it while rig holds the port.
    libusb_set_auto_detach_kernel_driver(f.handle, 1);
    if (const int e = libusb_claim_interface(f.handle, f.interface_number); e != 0) {
        libusb_close(f.handle);
        return make_error(Errc::io_error, fmt::format("{}: cannot claim interface {} of {} on bus {} device {}: {}{}", name, f.interface_number, id, f.bus,
                                                      f.address, error_text(e), e == LIBUSB_ERROR_BUSY ? " (another program holds it)" : ""));
    }
    return f;
}

}  // namespace rig::io::usb
