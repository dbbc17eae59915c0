#include "protocols/usbtmc/usbtmc.hpp"

#include <fmt/format.h>

namespace rig::usbtmc {
namespace {
void header(ByteWriter& w, MsgId id, std::uint8_t tag) {
    w.u8(static_cast<std::uint8_t>(id)).u8(tag).u8(static_cast<std::uint8_t>(~tag)).u8(0);
}
void pad4(ByteWriter& w) {
    while (w.view().size() % 4) w.u8(0);
}
}  // namespace

std::uint8_t next_tag(std::uint8_t tag) { return tag == 255 ? 1 : static_cast<std::uint8_t>(tag + 1); }

Bytes dev_dep_msg_out(std::uint8_t tag, ByteView data, bool eom) {
    ByteWriter w;
    header(w, MsgId::dev_dep_msg_out, tag);
    w.u32le(static_cast<std::uint32_t>(data.size())).u8(eom ? 1 : 0).u8(0).u8(0).u8(0).bytes(data);
    pad4(w);
    return w.take();
}

Bytes request_dev_dep_msg_in(std::uint8_t tag, std::uint32_t max_bytes, std::optional<std::uint8_t> term_char) {
    ByteWriter w;
    header(w, MsgId::request_dev_dep_msg_in, tag);
    w.u32le(max_bytes).u8(term_char ? 0x02 : 0).u8(term_char.value_or(0)).u8(0).u8(0);
    return w.take();
}

Bytes trigger(std::uint8_t tag) {
    ByteWriter w;
    header(w, MsgId::trigger, tag);
    w.zeros(8);
    return w.take();
}

Bytes dev_dep_msg_in(std::uint8_t tag, ByteView data, bool eom) {
    ByteWriter w;
    header(w, MsgId::request_dev_dep_msg_in, tag);
    w.u32le(static_cast<std::uint32_t>(data.size())).u8(eom ? 1 : 0).u8(0).u8(0).u8(0).bytes(data);
    pad4(w);
    return w.take();
}

Result<BulkOutMessage> parse_bulk_out(ByteView b) {
    if (b.size() < kHeaderLen) return make_error(Errc::protocol_error, fmt::format("usbtmc: Bulk-OUT header needs 12 bytes, got {}", b.size()));
    ByteReader r(b);
    BulkOutMessage m;
    m.msg_id = static_cast<MsgId>(*r.u8());
    m.tag = *r.u8();
    const auto inverse = *r.u8();
    const auto reserved = *r.u8();
    m.transfer_size = *r.u32le();
    const auto attrs = *r.u8();
    const auto term = *r.u8();
    if (static_cast<std::uint8_t>(~m.tag) != inverse)
        return make_error(Errc::protocol_error, fmt::format("usbtmc: bTagInverse 0x{:02X} does not match bTag 0x{:02X}", inverse, m.tag));
    if (m.tag == 0) return make_error(Errc::protocol_error, "usbtmc: bTag 0 is never used");
    if (reserved != 0) return make_error(Errc::protocol_error, "usbtmc: reserved header byte 3 is not zero");
    switch (m.msg_id) {
    case MsgId::dev_dep_msg_out: {
        const auto body = b.subspan(kHeaderLen);
        if (body.size() < m.transfer_size)
            return make_error(Errc::protocol_error, fmt::format("usbtmc: DEV_DEP_MSG_OUT says {} bytes, carries {}", m.transfer_size, body.size()));
        m.data.assign(body.begin(), body.begin() + m.transfer_size);
        m.eom = attrs & 0x01;
        return m;
    }
    case MsgId::request_dev_dep_msg_in:
        if (attrs & 0x02) m.term_char = term;
        return m;
    case MsgId::trigger: return m;
    default: return make_error(Errc::protocol_error, fmt::format("usbtmc: Bulk-OUT MsgID {} is not supported", static_cast<int>(m.msg_id)));
    }
}

Result<BulkInHeader> parse_bulk_in_header(ByteView b) {
    if (b.size() < kHeaderLen) return make_error(Errc::protocol_error, fmt::format("usbtmc: Bulk-IN header needs 12 bytes, got {}", b.size()));
    ByteReader r(b);
    BulkInHeader h;
    h.msg_id = static_cast<MsgId>(*r.u8());
    h.tag = *r.u8();
    const auto inverse = *r.u8();
    const auto reserved = *r.u8();
    h.transfer_size = *r.u32le();
    const auto attrs = *r.u8();
    if (static_cast<std::uint8_t>(~h.tag) != inverse)
        return make_error(Errc::protocol_error, fmt::format("usbtmc: bTagInverse 0x{:02X} does not match bTag 0x{:02X}", inverse, h.tag));
    if (reserved != 0) return make_error(Errc::protocol_error, "usbtmc: reserved header byte 3 is not zero");
    h.eom = attrs & 0x01;
    h.ended_on_term_char = attrs & 0x02;
    return h;
}

Result<bool> ResponseAssembler::feed_transfer(ByteView t) {
    auto h = parse_bulk_in_header(t);
    if (!h) return h.error();
    if (h->msg_id != MsgId::request_dev_dep_msg_in)
        return make_error(Errc::protocol_error, fmt::format("usbtmc: Bulk-IN MsgID {} is not DEV_DEP_MSG_IN", static_cast<int>(h->msg_id)));
    if (h->tag != tag_) return make_error(Errc::protocol_error, fmt::format("usbtmc: reply bTag {} does not match request bTag {}", h->tag, tag_));
    const auto body = t.subspan(kHeaderLen);
    if (body.size() < h->transfer_size)
        return make_error(Errc::protocol_error, fmt::format("usbtmc: transfer says {} bytes, carries {}", h->transfer_size, body.size()));
    data_.insert(data_.end(), body.begin(), body.begin() + h->transfer_size);  // padding dropped
    eom_ = h->eom;
    return eom_;
}

const char* to_string(Status s) {
    switch (s) {
    case Status::success: return "SUCCESS";
    case Status::pending: return "PENDING";
    case Status::interrupt_in_busy: return "INTERRUPT_IN_BUSY";
    case Status::failed: return "FAILED";
    case Status::transfer_not_in_progress: return "TRANSFER_NOT_IN_PROGRESS";
    case Status::split_not_in_progress: return "SPLIT_NOT_IN_PROGRESS";
    case Status::split_in_progress: return "SPLIT_IN_PROGRESS";
    }
    return "UNKNOWN";
}

ControlSetup initiate_clear(std::uint16_t itf) { return {kRequestTypeInterface, request::initiate_clear, 0, itf, 1}; }
ControlSetup check_clear_status(std::uint16_t itf) { return {kRequestTypeInterface, request::check_clear_status, 0, itf, 2}; }
ControlSetup initiate_abort_bulk_out(std::uint8_t tag, std::uint8_t ep) { return {kRequestTypeEndpoint, request::initiate_abort_bulk_out, tag, ep, 2}; }
ControlSetup initiate_abort_bulk_in(std::uint8_t tag, std::uint8_t ep) { return {kRequestTypeEndpoint, request::initiate_abort_bulk_in, tag, ep, 2}; }
ControlSetup get_capabilities(std::uint16_t itf) { return {kRequestTypeInterface, request::get_capabilities, 0, itf, 0x18}; }

ControlSetup check_abort_bulk_out_status(std::uint8_t ep) { return {kRequestTypeEndpoint, request::check_abort_bulk_out_status, 0, ep, 8}; }
ControlSetup check_abort_bulk_in_status(std::uint8_t ep) { return {kRequestTypeEndpoint, request::check_abort_bulk_in_status, 0, ep, 8}; }
ControlSetup read_status_byte(std::uint8_t tag, std::uint16_t itf) { return {kRequestTypeInterface, request::read_status_byte, tag, itf, 3}; }

Result<ControlReply> parse_control_reply(ByteView r, std::size_t length, const char* request) {
    if (r.size() < length || r.empty())
        return make_error(Errc::protocol_error, fmt::format("usbtmc: {} reply is {} bytes, want {}", request, r.size(), length));
    auto at = [&](std::size_t i) { return i < r.size() ? std::to_integer<std::uint8_t>(r[i]) : std::uint8_t{0}; };
    ControlReply c;
    c.status = static_cast<Status>(at(0));
    c.second = at(1);
    c.third = at(2);
    if (r.size() >= 8) c.count = static_cast<std::uint32_t>(at(4) | (at(5) << 8) | (at(6) << 16) | (static_cast<std::uint32_t>(at(7)) << 24));
    return c;
}

Result<std::uint8_t> parse_status_notification(ByteView p, std::uint8_t tag) {
    if (p.size() < 2) return make_error(Errc::protocol_error, fmt::format("usbtmc: status notification is {} bytes, want 2", p.size()));
    const auto first = std::to_integer<std::uint8_t>(p[0]);
    if (!(first & 0x80)) return make_error(Errc::protocol_error, fmt::format("usbtmc: notification 0x{:02X} is not a READ_STATUS_BYTE answer", first));
    if ((first & 0x7F) != tag) return make_error(Errc::protocol_error, fmt::format("usbtmc: status notification bTag {} does not match request bTag {}", first & 0x7F, tag));
    return std::to_integer<std::uint8_t>(p[1]);
}

Result<Capabilities> parse_capabilities(ByteView r) {
    if (r.size() < 24) return make_error(Errc::protocol_error, fmt::format("usbtmc: GET_CAPABILITIES reply is {} bytes, want 24", r.size()));
    auto at = [&](std::size_t i) { return std::to_integer<std::uint8_t>(r[i]); };
    if (at(0) != static_cast<std::uint8_t>(Status::success))
        return make_error(Errc::protocol_error, fmt::format("usbtmc: GET_CAPABILITIES status {}", to_string(static_cast<Status>(at(0)))));
    Capabilities c;
    c.bcd_usbtmc = static_cast<std::uint16_t>(at(2) | (at(3) << 8));
    c.indicator_pulse = at(4) & 0x04;
    c.talk_only = at(4) & 0x02;
    c.listen_only = at(4) & 0x01;
    c.term_char = at(5) & 0x01;
    c.bcd_usb488 = static_cast<std::uint16_t>(at(12) | (at(13) << 8));
    c.is_488_2 = at(14) & 0x04;
    c.ren_control = at(14) & 0x02;
    c.trigger = at(14) & 0x01;
    return c;
}

}  // namespace rig::usbtmc
