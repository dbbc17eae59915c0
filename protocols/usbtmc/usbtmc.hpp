// USBTMC / USB488 bulk headers and class requests (reference/protocols.md §7), sans-IO.
#pragma once
#include <cstdint>
#include <optional>

#include "protocols/common/bytes.hpp"
#include "protocols/common/result.hpp"

namespace rig::usbtmc {

inline constexpr std::size_t kHeaderLen = 12;

enum class MsgId : std::uint8_t {
    dev_dep_msg_out = 1,
    request_dev_dep_msg_in = 2,  // also DEV_DEP_MSG_IN on Bulk-IN
    vendor_specific_out = 126,
    vendor_specific_in = 127,
    trigger = 128,               // USB488
};

// bTag runs 1..255 and wraps to 1: 0 is never used.
std::uint8_t next_tag(std::uint8_t tag);

// Header + data + zero padding to a multiple of 4.
Bytes dev_dep_msg_out(std::uint8_t tag, ByteView data, bool eom = true);
Bytes request_dev_dep_msg_in(std::uint8_t tag, std::uint32_t max_bytes, std::optional<std::uint8_t> term_char = std::nullopt);
Bytes trigger(std::uint8_t tag);
// Device side of a response: header + data + padding (rigsim's instruments, tests).
Bytes dev_dep_msg_in(std::uint8_t tag, ByteView data, bool eom = true);

// A Bulk-OUT message as the device parses it: DEV_DEP_MSG_OUT carries data (EOM on its last
// transfer); REQUEST_DEV_DEP_MSG_IN carries the largest reply the host accepts.
struct BulkOutMessage {
    MsgId msg_id = MsgId::dev_dep_msg_out;
    std::uint8_t tag = 0;
    std::uint32_t transfer_size = 0;
    bool eom = false;
    std::optional<std::uint8_t> term_char;
    Bytes data;
};
Result<BulkOutMessage> parse_bulk_out(ByteView transfer);

struct BulkInHeader {
    MsgId msg_id = MsgId::request_dev_dep_msg_in;
    std::uint8_t tag = 0;
    std::uint32_t transfer_size = 0;
    bool eom = false;
    bool ended_on_term_char = false;
};
// Checks bTagInverse and the reserved byte; names what is wrong.
Result<BulkInHeader> parse_bulk_in_header(ByteView bytes);

// Assembles one response from Bulk-IN transfers: the first packet of each transfer carries a
// header; data continues until transfer_size bytes arrived; the message ends with EOM.
class ResponseAssembler {
public:
    explicit ResponseAssembler(std::uint8_t expected_tag) : tag_(expected_tag) {}
    // Feed each USB transfer (header + data [+ padding]). Returns true once EOM has arrived.
    Result<bool> feed_transfer(ByteView transfer);
    const Bytes& data() const { return data_; }
    // A device that ends a transfer without EOM needs another REQUEST_DEV_DEP_MSG_IN.
    bool needs_another_request() const { return !eom_; }

private:
    std::uint8_t tag_;
    Bytes data_;
    bool eom_ = false;
};

// Class-specific control requests (§7.3).
namespace request {
inline constexpr std::uint8_t initiate_abort_bulk_out = 1, check_abort_bulk_out_status = 2, initiate_abort_bulk_in = 3,
                              check_abort_bulk_in_status = 4, initiate_clear = 5, check_clear_status = 6, get_capabilities = 7,
                              indicator_pulse = 64, read_status_byte = 128, ren_control = 160, go_to_local = 161, local_lockout = 162;
}
inline constexpr std::uint8_t kRequestTypeInterface = 0xA1;  // class, interface, device-to-host
inline constexpr std::uint8_t kRequestTypeEndpoint = 0xA2;   // class, endpoint, device-to-host

enum class Status : std::uint8_t {
    success = 0x01, pending = 0x02, interrupt_in_busy = 0x20, failed = 0x80,
    transfer_not_in_progress = 0x81, split_not_in_progress = 0x82, split_in_progress = 0x83,
};
const char* to_string(Status s);

struct ControlSetup {
    std::uint8_t request_type, request;
    std::uint16_t value, index, length;
};
ControlSetup initiate_clear(std::uint16_t interface_number);
ControlSetup check_clear_status(std::uint16_t interface_number);
ControlSetup initiate_abort_bulk_out(std::uint8_t tag, std::uint8_t endpoint);
ControlSetup initiate_abort_bulk_in(std::uint8_t tag, std::uint8_t endpoint);
ControlSetup get_capabilities(std::uint16_t interface_number);
ControlSetup check_abort_bulk_out_status(std::uint8_t endpoint);
ControlSetup check_abort_bulk_in_status(std::uint8_t endpoint);
// USB488: wValue is a bTag of its own, 2..127.
ControlSetup read_status_byte(std::uint8_t tag, std::uint16_t interface_number);

// The reply of any class request: USBTMC_status first; `second` is byte 1 (bTag of an
// INITIATE_ABORT, bmClear of CHECK_CLEAR_STATUS, bmAbortBulkIn of CHECK_ABORT_BULK_IN_STATUS,
// bTag of READ_STATUS_BYTE); `third` is byte 2 (READ_STATUS_BYTE's status byte); `count` is
// bytes 4..7 of a CHECK_ABORT_*_STATUS (NBYTES_RXD / NBYTES_TXD).
struct ControlReply {
    Status status = Status::failed;
    std::uint8_t second = 0, third = 0;
    std::uint32_t count = 0;
};
// `request` names the request in errors; a reply shorter than `length` is refused.
Result<ControlReply> parse_control_reply(ByteView reply, std::size_t length, const char* request);
// USB488 Interrupt-IN notification answering READ_STATUS_BYTE: 0x80|bTag, then the status byte.
Result<std::uint8_t> parse_status_notification(ByteView packet, std::uint8_t tag);

struct Capabilities {
    std::uint16_t bcd_usbtmc = 0, bcd_usb488 = 0;
    bool indicator_pulse = false, talk_only = false, listen_only = false, term_char = false;
    bool is_488_2 = false, ren_control = false, trigger = false;
};
Result<Capabilities> parse_capabilities(ByteView reply);  // 24 bytes, status first

}  // namespace rig::usbtmc
