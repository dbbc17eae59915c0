#include "protocols/scanner/scanner.hpp"

#include <fmt/format.h>
#include <utility>

namespace rig::scanner {

namespace {

constexpr std::byte kStx{0x02}, kEtx{0x03}, kCr{0x0D}, kLf{0x0A};

// What has been read so far, as a bad read's message shows it.
std::string shown(const std::string& text) {
    if (text.size() <= 40) return "'" + text + "'";
    return "'" + text.substr(0, 40) + "...'";
}

// A barcode ends: its text, or the bad read (`bad`, or too long); the next starts afresh.
Scan take(const std::string& bad, std::string& line, std::size_t& length) {
    Scan s;
    if (!bad.empty())
        s.error = fmt::format("{} (read {})", bad, shown(line));
    else if (length > kMaxBarcode)
        s.error = fmt::format("bad read: longer than {} characters (read {})", kMaxBarcode, shown(line));
    else
        s.text = line;
    line.clear();
    length = 0;
    return s;
}

// Key codes (linux/input-event-codes.h), US layout: the unshifted and shifted character.
struct KeyChar {
    std::uint16_t code;
    char plain, shifted;
};
constexpr KeyChar kKeys[] = {
    {2, '1', '!'},   {3, '2', '@'},   {4, '3', '#'},   {5, '4', '$'},   {6, '5', '%'},   {7, '6', '^'},   {8, '7', '&'},
    {9, '8', '*'},   {10, '9', '('},  {11, '0', ')'},  {12, '-', '_'},  {13, '=', '+'},  {16, 'q', 'Q'},  {17, 'w', 'W'},
    {18, 'e', 'E'},  {19, 'r', 'R'},  {20, 't', 'T'},  {21, 'y', 'Y'},  {22, 'u', 'U'},  {23, 'i', 'I'},  {24, 'o', 'O'},
    {25, 'p', 'P'},  {26, '[', '{'},  {27, ']', '}'},  {30, 'a', 'A'},  {31, 's', 'S'},  {32, 'd', 'D'},  {33, 'f', 'F'},
    {34, 'g', 'G'},  {35, 'h', 'H'},  {36, 'j', 'J'},  {37, 'k', 'K'},  {38, 'l', 'L'},  {39, ';', ':'},  {40, '\'', '"'},
    {41, '`', '~'},  {43, '\\', '|'}, {44, 'z', 'Z'},  {45, 'x', 'X'},  {46, 'c', 'C'},  {47, 'v', 'V'},  {48, 'b', 'B'},
    {49, 'n', 'N'},  {50, 'm', 'M'},  {51, ',', '<'},  {52, '.', '>'},  {53, '/', '?'},  {57, ' ', ' '},
    // The keypad, as scanners in "keypad emulation" send digits (NumLock on: they do not shift).
    {55, '*', '*'},  {71, '7', '7'},  {72, '8', '8'},  {73, '9', '9'},  {74, '-', '-'},  {75, '4', '4'},  {76, '5', '5'},
    {77, '6', '6'},  {78, '+', '+'},  {79, '1', '1'},  {80, '2', '2'},  {81, '3', '3'},  {82, '0', '0'},  {83, '.', '.'},
    {98, '/', '/'},
};

constexpr std::uint16_t kEnter = 28, kKpEnter = 96, kLeftShift = 42, kRightShift = 54, kCapsLock = 58;
constexpr std::uint16_t kLeftCtrl = 29, kRightCtrl = 97, kLeftAlt = 56, kRightAlt = 100, kNumLock = 69;

}  // namespace

char us_layout_char(std::uint16_t code, bool shifted) {
    for (const auto& k : kKeys)
        if (k.code == code) return shifted ? k.shifted : k.plain;
    return 0;
}

std::vector<Scan> LineFramer::feed(ByteView bytes) {
    std::vector<Scan> out;
    for (std::byte b : bytes) {
        if (b == kStx) {  // a framed barcode starts: anything before it was no barcode
            line_.clear();
            length_ = 0;
            bad_byte_ = -1;
        } else if (b == kCr || b == kLf || b == kEtx) {
            if (pending()) out.push_back(finish());  // else the LF of CR LF, or an empty line
        } else {
            const auto c = std::to_integer<unsigned char>(b);
            if (c >= 0x20 && c < 0x7F) {
                if (length_ < kMaxBarcode) line_.push_back(static_cast<char>(c));
            } else if (bad_byte_ < 0) {
                bad_byte_ = c;
            }
            ++length_;
        }
    }
    return out;
}

Scan LineFramer::finish() {
    const std::string bad = bad_byte_ >= 0 ? fmt::format("bad read: byte 0x{:02X} is no barcode character", bad_byte_) : "";
    bad_byte_ = -1;
    return take(bad, line_, length_);
}

std::optional<Scan> LineFramer::idle() {
    if (!pending()) return std::nullopt;
    Scan s = finish();
    if (s.ok())
        s.error = fmt::format("bad read: {} came with no suffix after it (set the scanner's suffix to CR)", shown(s.text));
    s.text.clear();
    return s;
}

std::optional<Scan> KeyDecoder::feed(std::uint16_t type, std::uint16_t code, std::int32_t value) {
    if (type != ev::key) return std::nullopt;  // EV_SYN reports, EV_MSC scan codes, LEDs
    const bool down = value != 0;
    switch (code) {
    case kLeftShift: left_shift_ = down; return std::nullopt;
    case kRightShift: right_shift_ = down; return std::nullopt;
    case kLeftCtrl:
    case kRightCtrl: ctrl_ = down; return std::nullopt;
    case kLeftAlt:
    case kRightAlt: alt_ = down; return std::nullopt;
    default: break;
    }
    if (value != 1) return std::nullopt;  // a release, or an autorepeat (a scanner types each key once)
    if (code == kCapsLock) {
        caps_lock_ = !caps_lock_;
        return std::nullopt;
    }
    if (code == kNumLock) return std::nullopt;
    if (code == kEnter || code == kKpEnter) {
        if (!pending()) return std::nullopt;
        return finish();
    }
    const bool shift = left_shift_ || right_shift_;
    char c = us_layout_char(code, shift);
    if (c >= 'a' && c <= 'z' && caps_lock_) c = static_cast<char>(c - 'a' + 'A');
    else if (c >= 'A' && c <= 'Z' && caps_lock_) c = static_cast<char>(c - 'A' + 'a');
    if (c == 0 || ctrl_ || alt_) {
        if (bad_.empty())
            bad_ = fmt::format("bad read: key {}{}code {} is no barcode character", ctrl_ ? "Ctrl+" : "", alt_ ? "Alt+" : "", code);
    } else if (line_.size() < kMaxBarcode) {
        line_.push_back(c);
    }
    ++length_;
    return std::nullopt;
}

void KeyDecoder::dropped() {
    // The key state may have changed unseen too: libevdev resynchronises it with events after this.
    if (bad_.empty()) bad_ = "bad read: the kernel dropped key events (scan again)";
    ++length_;
}

Scan KeyDecoder::finish() { return take(std::exchange(bad_, {}), line_, length_); }

std::optional<Scan> KeyDecoder::idle() {
    if (!pending()) return std::nullopt;
    Scan s = finish();
    if (s.ok()) s.error = fmt::format("bad read: {} came with no Enter after it (set the scanner's suffix to Enter)", shown(s.text));
    s.text.clear();
    return s;
}

}  // namespace rig::scanner
