// Barcode scanners, sans-IO: what a scanner sends, turned into barcodes.
//
// A serial scanner (RS-232, USB CDC-ACM in "virtual COM" mode, a fixed-mount reader's TCP port)
// sends each barcode as ASCII text followed by its suffix, CR by factory default (Honeywell,
// Zebra, Datalogic), or CR LF, LF, or ETX; many fixed-mount readers frame it as STX ... ETX.
// A USB HID scanner is a keyboard: read through evdev, each character is a key press (with
// shift for capitals) on the US layout the scanners default to, and Enter is the suffix.
//
// Either way a barcode is only taken once its suffix arrived; a read the decoder cannot trust
// (a byte or key with no character, one longer than kMaxBarcode, events the kernel dropped, text
// with no suffix after it) is reported as a bad read naming why, never passed on as a serial.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocols/common/bytes.hpp"

namespace rig::scanner {

inline constexpr std::size_t kMaxBarcode = 128;

// One read: a barcode (`text`, `error` empty), or a bad read (`error` says why).
struct Scan {
    std::string text;
    std::string error;
    bool ok() const { return error.empty(); }
    friend bool operator==(const Scan&, const Scan&) = default;
};

// Serial scanners: one barcode per suffix (CR, LF, CR LF, ETX; STX starts a barcode afresh).
class LineFramer {
public:
    std::vector<Scan> feed(ByteView bytes);
    // The line went quiet: text with no suffix after it is a bad read (the scanner's suffix is
    // not set, or the line was cut); nothing when no text is pending.
    std::optional<Scan> idle();
    bool pending() const { return !line_.empty() || bad_byte_ >= 0; }

private:
    Scan finish();
    std::string line_;
    std::size_t length_ = 0;  // bytes of the barcode, including any past kMaxBarcode
    int bad_byte_ = -1;       // the first byte with no character, or -1
};

// Linux input event types and codes the decoder uses (linux/input-event-codes.h).
namespace ev {
inline constexpr std::uint16_t syn = 0x00, key = 0x01;
inline constexpr std::uint16_t syn_dropped = 3;
}  // namespace ev

// USB HID (keyboard) scanners: key events as evdev reports them (type, code, value with 1 a
// press, 0 a release, 2 an autorepeat), decoded on the US layout. Enter ends a barcode.
class KeyDecoder {
public:
    std::optional<Scan> feed(std::uint16_t type, std::uint16_t code, std::int32_t value);
    // The kernel dropped events (SYN_DROPPED): the barcode being typed cannot be trusted.
    void dropped();
    std::optional<Scan> idle();  // as LineFramer::idle
    bool pending() const { return length_ > 0 || !bad_.empty(); }

private:
    Scan finish();
    std::string line_;
    std::size_t length_ = 0;
    std::string bad_;  // why the barcode being typed is a bad read, "" while good
    bool left_shift_ = false, right_shift_ = false, caps_lock_ = false, ctrl_ = false, alt_ = false;
};

// The character a key gives on the US layout, shifted or not; 0 when it gives none.
char us_layout_char(std::uint16_t code, bool shifted);

}  // namespace rig::scanner
