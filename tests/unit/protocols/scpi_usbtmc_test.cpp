#include <doctest/doctest.h>

#include <cmath>

#include "hex.hpp"
#include "protocols/scpi/scpi.hpp"
#include "protocols/usbtmc/usbtmc.hpp"

using namespace rig;

TEST_CASE("scpi builds commands with quoting and shortest numbers") {
    CHECK(scpi::command("VOLT", {21.0}) == "VOLT 21\n");
    CHECK(scpi::command("CURR", {5e-2}) == "CURR 0.05\n");
    CHECK(scpi::command("OUTP", {true}) == "OUTP ON\n");
    CHECK(scpi::command("APPL", {12.5, 1.5}) == "APPL 12.5,1.5\n");
    CHECK(scpi::command("DISP:TEXT", {std::string("say \"hi\"")}) == "DISP:TEXT \"say \"\"hi\"\"\"\n");
    CHECK(scpi::command("*IDN?") == "*IDN?\n");
}

TEST_CASE("scpi parses NR1/NR2/NR3 numbers, booleans and strings, naming bad input") {
    CHECK(*scpi::parse_number("4.83E-2") == doctest::Approx(0.0483));
    CHECK(*scpi::parse_number(" +12 ") == 12);
    CHECK(*scpi::parse_number("-0.5") == -0.5);
    CHECK(std::isinf(*scpi::parse_number("9.9E37")) == false);
    CHECK(std::isnan(*scpi::parse_number("9.91E37")));
    CHECK(std::isinf(*scpi::parse_number("INF")));
    CHECK(scpi::parse_number("12V").error().message == "scpi: '12V' is not a number");
    CHECK(*scpi::parse_integer("-000") == 0);
    CHECK(*scpi::parse_bool("ON"));
    CHECK_FALSE(*scpi::parse_bool("0"));
    CHECK_FALSE(scpi::parse_bool("maybe"));
    CHECK(*scpi::parse_string("\"say \"\"hi\"\"\"") == "say \"hi\"");
    CHECK(*scpi::parse_string("'a,b'") == "a,b");
    CHECK_FALSE(scpi::parse_string("\"open"));
    auto list = scpi::parse_number_list("1.0, 2.5E0,-3");
    REQUIRE(list);
    CHECK(*list == std::vector<double>{1.0, 2.5, -3.0});
    CHECK(scpi::split_list("\"a,b\",c") == std::vector<std::string>{"\"a,b\"", "c"});
}

TEST_CASE("scpi error queue entries parse in the variants seen in manuals") {
    auto none = scpi::parse_error("+0,\"No error\"");
    REQUIRE(none);
    CHECK_FALSE(none->is_error());
    auto e = scpi::parse_error("-113,\"Undefined header\"");
    REQUIRE(e);
    CHECK(e->code == -113);
    CHECK(e->message == "Undefined header");
    CHECK(scpi::parse_error("-000,\"No error\"")->code == 0);
    CHECK(scpi::parse_error("-350,\"Queue overflow\"")->code == -350);
    CHECK_FALSE(scpi::parse_error("garbage"));
}

TEST_CASE("scpi *IDN? replies parse defensively") {
    auto a = scpi::parse_idn("ACME,PSU-3005,SN1234,1.2.3\n");
    REQUIRE(a);
    CHECK(a->vendor == "ACME");
    CHECK(a->serial == "SN1234");
    CHECK(a->firmware == "1.2.3");
    auto b = scpi::parse_idn("*IDN ACME,PSU-3005,0,1.2");
    REQUIRE(b);
    CHECK(b->model == "PSU-3005");
    auto c = scpi::parse_idn("ACME,DMM,2.0");
    REQUIRE(c);
    CHECK(c->serial.empty());
    CHECK(c->firmware == "2.0");
    auto d = scpi::parse_idn("ACME,M,SN,FW1,FW2");
    CHECK(d->firmware == "FW1,FW2");
    CHECK_FALSE(scpi::parse_idn("nonsense"));
}

TEST_CASE("scpi definite and indefinite blocks, and a response reader that keeps LF inside blocks") {
    auto blk = scpi::parse_block(as_bytes(std::string("#216ABCDEFGHIJKLMNOP\n")));
    REQUIRE(blk);
    REQUIRE(*blk);
    CHECK((*blk)->data.size() == 16);
    CHECK((*blk)->consumed == 20);
    CHECK_FALSE(*scpi::parse_block(as_bytes(std::string("#216ABC"))));  // needs more
    auto indef = scpi::parse_block(as_bytes(std::string("#0raw\n")), true);
    REQUIRE(*indef);
    CHECK(std::string(reinterpret_cast<const char*>((*indef)->data.data()), (*indef)->data.size()) == "raw");
    CHECK_FALSE(scpi::parse_block(as_bytes(std::string("#A12"))));
    Bytes binary = to_bytes({0x0A, 0x00, 0x0A, 0xFF});
    CHECK(to_hex(scpi::make_block(binary)) == "23 31 34 0A 00 0A FF");

    scpi::ResponseReader rr;
    std::string stream = "1.5\r\n";
    auto block = scpi::make_block(binary);
    stream.append(reinterpret_cast<const char*>(block.data()), block.size());
    stream += "\n0,\"No error\"\n";
    std::vector<std::string> got;
    for (char ch : stream) {
        auto m = rr.feed(as_bytes(std::string(1, ch)));
        got.insert(got.end(), m.begin(), m.end());
    }
    REQUIRE(got.size() == 3);
    CHECK(got[0] == "1.5");
    CHECK(got[1].size() == 7);
    CHECK(got[2] == "0,\"No error\"");
}

TEST_CASE("usbtmc encodes the golden vectors TMC-1 and TMC-2") {
    CHECK(to_hex(usbtmc::dev_dep_msg_out(1, as_bytes(std::string("*IDN?\n")))) == "01 01 FE 00 06 00 00 00 01 00 00 00 2A 49 44 4E 3F 0A 00 00");
    CHECK(to_hex(usbtmc::request_dev_dep_msg_in(2, 1024)) == "02 02 FD 00 00 04 00 00 00 00 00 00");
    CHECK(to_hex(usbtmc::request_dev_dep_msg_in(3, 64, 0x0A)) == "02 03 FC 00 40 00 00 00 02 0A 00 00");
    CHECK(usbtmc::trigger(4).size() == 12);
}

TEST_CASE("usbtmc assembles the TMC-3 reply and rejects a wrong tag or inverse") {
    auto tmc3 = hex("02 02 FD 00 1B 00 00 00 01 00 00 00 41 43 4D 45 2C 50 53 55 2D 33 30 30 35 2C 53 4E 31 32 33 34 2C 31 2E 32 2E 33 0A 00");
    usbtmc::ResponseAssembler a(2);
    auto done = a.feed_transfer(tmc3);
    REQUIRE(done);
    CHECK(*done);
    CHECK(std::string(reinterpret_cast<const char*>(a.data().data()), a.data().size()) == "ACME,PSU-3005,SN1234,1.2.3\n");
    usbtmc::ResponseAssembler wrong(3);
    CHECK(wrong.feed_transfer(tmc3).error().message == "usbtmc: reply bTag 2 does not match request bTag 3");
    auto bad = tmc3;
    bad[2] = std::byte{0xFC};
    CHECK(usbtmc::parse_bulk_in_header(bad).error().message == "usbtmc: bTagInverse 0xFC does not match bTag 0x02");
    CHECK_FALSE(usbtmc::parse_bulk_in_header(hex("02 02 FD")));
    // A reply split over two transfers: the first without EOM.
    usbtmc::ResponseAssembler two(5);
    auto first = usbtmc::dev_dep_msg_out(5, as_bytes(std::string("1.2")), false);
    first[0] = std::byte{2};
    auto second = usbtmc::dev_dep_msg_out(5, as_bytes(std::string("5\n")), true);
    second[0] = std::byte{2};
    CHECK_FALSE(*two.feed_transfer(first));
    CHECK(two.needs_another_request());
    CHECK(*two.feed_transfer(second));
    CHECK(two.data().size() == 5);
}

TEST_CASE("usbtmc tags wrap 255 to 1, and control requests carry the documented fields") {
    CHECK(usbtmc::next_tag(1) == 2);
    CHECK(usbtmc::next_tag(255) == 1);
    auto clear = usbtmc::initiate_clear(0);
    CHECK(clear.request_type == 0xA1);
    CHECK(clear.request == 5);
    auto abort = usbtmc::initiate_abort_bulk_in(7, 0x82);
    CHECK(abort.request_type == 0xA2);
    CHECK(abort.value == 7);
    CHECK(abort.index == 0x82);
    CHECK(usbtmc::get_capabilities(0).length == 24);
    Bytes caps(24);
    caps[0] = std::byte{1};
    caps[2] = std::byte{0x00};
    caps[3] = std::byte{0x01};
    caps[4] = std::byte{0x04};
    caps[14] = std::byte{0x07};
    auto c = usbtmc::parse_capabilities(caps);
    REQUIRE(c);
    CHECK(c->bcd_usbtmc == 0x0100);
    CHECK(c->indicator_pulse);
    CHECK(c->is_488_2);
    CHECK(c->trigger);
    caps[0] = std::byte{0x80};
    CHECK(usbtmc::parse_capabilities(caps).error().message == "usbtmc: GET_CAPABILITIES status FAILED");
}

TEST_CASE("usbtmc device side: DEV_DEP_MSG_IN golden bytes, Bulk-OUT parsed back, bad headers named") {
    CHECK(to_hex(usbtmc::dev_dep_msg_in(2, as_bytes(std::string("1\n")))) == "02 02 FD 00 02 00 00 00 01 00 00 00 31 0A 00 00");
    auto out = usbtmc::parse_bulk_out(usbtmc::dev_dep_msg_out(1, as_bytes(std::string("*IDN?\n"))));
    REQUIRE(out);
    CHECK(out->msg_id == usbtmc::MsgId::dev_dep_msg_out);
    CHECK(out->tag == 1);
    CHECK(out->eom);
    CHECK(to_hex(out->data) == "2A 49 44 4E 3F 0A");
    auto req = usbtmc::parse_bulk_out(usbtmc::request_dev_dep_msg_in(3, 64, 0x0A));
    REQUIRE(req);
    CHECK(req->msg_id == usbtmc::MsgId::request_dev_dep_msg_in);
    CHECK(req->transfer_size == 64);
    CHECK(req->term_char == std::optional<std::uint8_t>(0x0A));
    CHECK(usbtmc::parse_bulk_out(hex("01 01 FE 00 10 00 00 00 01 00 00 00 2A")).error().message == "usbtmc: DEV_DEP_MSG_OUT says 16 bytes, carries 1");
    CHECK(usbtmc::parse_bulk_out(hex("01 00 FF 00 00 00 00 00 01 00 00 00")).error().message == "usbtmc: bTag 0 is never used");
    CHECK(usbtmc::parse_bulk_out(hex("05 01 FE 00 00 00 00 00 00 00 00 00")).error().message == "usbtmc: Bulk-OUT MsgID 5 is not supported");
    CHECK(usbtmc::parse_bulk_out(hex("01 01 FE")).error().message == "usbtmc: Bulk-OUT header needs 12 bytes, got 3");
}

TEST_CASE("usbtmc abort, clear and READ_STATUS_BYTE requests and their replies") {
    auto check_in = usbtmc::check_abort_bulk_in_status(0x82);
    CHECK(check_in.request_type == 0xA2);
    CHECK(check_in.request == 4);
    CHECK(check_in.index == 0x82);
    CHECK(check_in.length == 8);
    CHECK(usbtmc::check_abort_bulk_out_status(0x01).request == 2);
    auto rsb = usbtmc::read_status_byte(0x42, 0);
    CHECK(rsb.request_type == 0xA1);
    CHECK(rsb.request == 128);
    CHECK(rsb.value == 0x42);
    CHECK(rsb.length == 3);
    auto r = usbtmc::parse_control_reply(hex("01 42 10"), 3, "READ_STATUS_BYTE");
    REQUIRE(r);
    CHECK(r->status == usbtmc::Status::success);
    CHECK(r->second == 0x42);
    CHECK(r->third == 0x10);
    auto pending = usbtmc::parse_control_reply(hex("02 01 00 00 20 01 00 00"), 8, "CHECK_ABORT_BULK_IN_STATUS");
    REQUIRE(pending);
    CHECK(pending->status == usbtmc::Status::pending);
    CHECK(pending->second == 1);
    CHECK(pending->count == 0x120);
    CHECK(usbtmc::parse_control_reply(hex("01"), 2, "CHECK_CLEAR_STATUS").error().message == "usbtmc: CHECK_CLEAR_STATUS reply is 1 bytes, want 2");
    CHECK(*usbtmc::parse_status_notification(hex("C2 10"), 0x42) == 0x10);
    CHECK(usbtmc::parse_status_notification(hex("C3 10"), 0x42).error().message == "usbtmc: status notification bTag 67 does not match request bTag 66");
    CHECK(usbtmc::parse_status_notification(hex("01 10"), 0x42).error().message == "usbtmc: notification 0x01 is not a READ_STATUS_BYTE answer");
}
