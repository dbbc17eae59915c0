// rig's jig-controller protocol (protocols/jig/README.md), sans-IO.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "protocols/common/bytes.hpp"
#include "protocols/common/result.hpp"

namespace rig::jig {

inline constexpr std::uint8_t kVersion = 1;
inline constexpr std::size_t kMaxPayload = 240;
inline constexpr std::uint32_t kWatchdogMs = 500;  // jig cuts DUT power after this much silence

// event: unsolicited, jig -> host (STATUS_CHANGED: command READ_LID, payload the status byte).
enum class Kind : std::uint8_t { request = 0x01, response = 0x81, error = 0xE1, event = 0x41 };

enum class Command : std::uint8_t {
    heartbeat = 0x01,
    identify = 0x02,
    set_dut_power = 0x10,
    read_dut_supply = 0x11,
    read_lid = 0x12,
    read_barcode = 0x13,
    set_stack_light = 0x14,
    buzzer = 0x15,
};

enum class ErrorCode : std::uint8_t {
    unknown_command = 1,
    bad_payload = 2,
    interlock_open = 3,  // DUT power refused: lid open
    hardware_fault = 4,
};

namespace status {
inline constexpr std::uint8_t dut_power = 0x01;
inline constexpr std::uint8_t lid_closed = 0x02;
inline constexpr std::uint8_t dut_present = 0x04;
inline constexpr std::uint8_t watchdog_tripped = 0x08;
}  // namespace status

namespace light {
inline constexpr std::uint8_t red = 0x01;
inline constexpr std::uint8_t amber = 0x02;
inline constexpr std::uint8_t green = 0x04;
}  // namespace light

struct Frame {
    Kind kind = Kind::request;
    std::uint8_t seq = 0;
    Command command = Command::heartbeat;
    Bytes payload;
    bool operator==(const Frame&) const = default;
};

// COBS-encoded body and its 0x00 delimiter, ready for the wire.
Bytes encode(const Frame& frame);

struct DropCounters {
    std::uint64_t bad_cobs = 0;
    std::uint64_t bad_crc = 0;
    std::uint64_t too_short = 0;
    std::uint64_t oversize = 0;
    std::uint64_t bad_version = 0;
    std::uint64_t bad_kind = 0;
};

class Parser {
public:
    std::vector<Frame> feed(ByteView bytes);
    const DropCounters& dropped() const noexcept { return dropped_; }

private:
    void finish_frame(std::vector<Frame>& out);
    Bytes buf_;
    bool overflow_ = false;
    DropCounters dropped_;
};

// Typed payloads.
struct Supply {
    double voltage_v = 0;  // wire: u16 mV
    double current_a = 0;  // wire: i32 mA
};
Bytes encode_supply(const Supply& s);
Result<Supply> decode_supply(ByteView payload);

struct Identity {
    std::string fixture_id;
    std::string firmware;
};
Bytes encode_identity(const Identity& id);
Result<Identity> decode_identity(ByteView payload);

struct ErrorReply {
    ErrorCode code = ErrorCode::hardware_fault;
    std::string message;
};
Bytes encode_error(const ErrorReply& e);
Result<ErrorReply> decode_error(ByteView payload);

const char* command_name(Command c);

}  // namespace rig::jig
