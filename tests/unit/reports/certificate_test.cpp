#include <doctest/doctest.h>
#include <ctime>
#include <fmt/format.h>
#include <thread>

#include <cmath>
#include <filesystem>
#include <unistd.h>

#include "reports/certificate.hpp"
#include "reports/dsse.hpp"
#include "reports/text.hpp"
#include "reports/trust.hpp"
#include "reports/verify.hpp"

using namespace rig::reports;

namespace {
Certificate sample(std::uint64_t seq = 1, std::string prev = "") {
    Certificate c;
    c.unit = {"FPV5-000101", "fpv5-bf", "LOT-A"};
    c.verdict = Verdict::fail;
    c.station = {"line1-3", "JIG-0042", "2027-06-30", "0.1.0", seq, {}};
    c.operator_id = "op7";
    c.plan = {"fpv5-bf", std::string(64, 'a')};
    c.dut = {"BTFL 2026.12.0", "S7X2", "003900213138511136333935", {}};
    c.started_at = "2026-11-22T10:00:00.000Z";
    c.finished_at = "2026-11-22T10:00:09.000Z";
    StepRecord s{"motors", "motors.spin", Verdict::fail, "motor 3 rpm 9120 outside [10000, 14000] rpm", c.started_at, 4.2, {}};
    LimitSpec rpm{LimitSpec::Kind::range, 10000.0, 14000.0, std::nullopt, std::nullopt, "", "rpm"};
    s.measurements.push_back({"motor3.rpm", 9120, "rpm", "[10000, 14000] rpm", "", Verdict::fail, rpm});
    s.measurements.push_back({"motor4.rpm", std::nan(""), "rpm", "[10000, 14000] rpm", "", Verdict::fail, rpm});
    c.steps.push_back(s);
    c.previous_sha256 = std::move(prev);
    return c;
}
KeyBinding bind(const StationKey& key, std::string station = "line1-3") {
    return {std::move(station), key.public_key(), "2026-01-01T00:00:00.000Z", "", "test"};
}
}  // namespace

TEST_CASE("certificate parts (ESC genealogy) round-trip, and a certificate without parts has no parts key") {
    auto c = sample();
    CHECK(to_json(c).find("parts") == std::string::npos);  // older certificates keep their exact bytes
    c.dut.parts = {{"esc1", "00112233445566778899aabbccddeeff", "com.rigsim.esc", "1.4", "2.0"},
                   {"esc2", "0f112233445566778899aabbccddeeff", "com.rigsim.esc", "1.4", "2.0"}};
    const auto text = to_json(c);
    CHECK(text.find(R"("parts":[{"position":"esc1","serial":"00112233445566778899aabbccddeeff","name":"com.rigsim.esc","firmware":"1.4","hardware":"2.0"})") !=
          std::string::npos);
    auto back = from_json(text);
    REQUIRE(back);
    CHECK(back->dut.parts == c.dut.parts);
    CHECK(to_json(*back) == text);
    auto bad = text;
    bad.replace(bad.find("\"parts\":["), 9, "\"parts\":[7,");
    CHECK(from_json(bad).error().message.find("parts") != std::string::npos);
}

TEST_CASE("certificate instruments (IDN and calibration) round-trip; none written when the station has none") {
    auto c = sample();
    CHECK(to_json(c).find("instruments") == std::string::npos);
    c.station.instruments = {{"psu", "psu", "Keysight Technologies", "E36103B", "MY59001234", "2.1.0-1.0", "2027-03-31"}};
    const auto text = to_json(c);
    CHECK(text.find(R"("instruments":[{"name":"psu","type":"psu","vendor":"Keysight Technologies","model":"E36103B","serial":"MY59001234","firmware":"2.1.0-1.0","calibration_due":"2027-03-31"}])") !=
          std::string::npos);
    auto back = from_json(text);
    REQUIRE(back);
    CHECK(back->station.instruments == c.station.instruments);
    CHECK(to_json(*back) == text);
    auto bad = text;
    bad.replace(bad.find("2027-03-31"), 10, "31.03.2027");
    REQUIRE_FALSE(from_json(bad));
    CHECK(from_json(bad).error().message.find("calibration_due") != std::string::npos);
}

TEST_CASE("a step's wait for shared instruments round-trips; none written without a wait; a wait beyond the step is refused") {
    auto c = sample();
    CHECK(to_json(c).find("instrument_wait_s") == std::string::npos);  // older certificates keep their exact bytes
    c.steps[0].instrument_wait_s = 0.25;
    const auto text = to_json(c);
    CHECK(text.find(R"("duration_s":4.2E0,"instrument_wait_s":2.5E-1,)") != std::string::npos);
    auto back = from_json(text);
    REQUIRE(back);
    CHECK(back->steps[0].instrument_wait_s == 0.25);
    CHECK(to_json(*back) == text);
    auto bad = text;
    bad.replace(bad.find("\"instrument_wait_s\":2.5E-1"), 26, "\"instrument_wait_s\":9.5E0");
    REQUIRE_FALSE(from_json(bad));
    CHECK(from_json(bad).error().message.find("instrument_wait_s") != std::string::npos);
}

TEST_CASE("utc_now: a timestamp to the millisecond, matching the system clock (the date part is cached per second)") {
    for (int i = 0; i < 3; ++i) {
        const auto before = std::chrono::system_clock::now();
        const auto t = utc_now();
        const auto after = std::chrono::system_clock::now();
        CHECK(is_timestamp(t));
        auto text = [](std::chrono::system_clock::time_point p) {
            const auto s = std::chrono::system_clock::to_time_t(p);
            std::tm tm{};
            gmtime_r(&s, &tm);
            char buf[32];
            std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
            return fmt::format("{}.{:03}Z", buf, std::chrono::duration_cast<std::chrono::milliseconds>(p.time_since_epoch()).count() % 1000);
        };
        CHECK(text(before) <= t);  // the same text form sorts as time does
        CHECK(t <= text(after));
        std::this_thread::sleep_for(std::chrono::milliseconds(600));  // into the next second at least once
    }
}

TEST_CASE("certificate JSON round-trips, NaN stored as null") {
    auto text = to_json(sample());
    CHECK(text.find("\"schema\":\"rig.certificate/v1\"") != std::string::npos);
    CHECK(text.find("\"value\":null") != std::string::npos);
    auto back = from_json(text);
    REQUIRE(back);
    CHECK(back->unit.serial == "FPV5-000101");
    CHECK(back->verdict == Verdict::fail);
    REQUIRE(back->steps.size() == 1);
    CHECK(back->steps[0].measurements[0].value == 9120);
    CHECK(std::isnan(back->steps[0].measurements[1].value));
    CHECK(to_json(*back) == text);  // the serialisation is stable
}

TEST_CASE("certificate parse names the missing field") {
    auto r = from_json(R"({"schema":"rig.certificate/v1","unit":{"serial":"X"}})");
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "certificate: unit.variant: missing");
    CHECK(from_json(R"({"schema":"rig.certificate/v9"})").error().message == "certificate: unknown schema 'rig.certificate/v9'");
}

TEST_CASE("dsse pae matches the specification's format") {
    CHECK(pae("http://example.com/HelloWorld", "hello world") == "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
}

TEST_CASE("a signed envelope verifies, and any tampered byte is detected") {
    auto key = StationKey::generate();
    TrustStore trust;
    trust.add(bind(key));
    const auto payload = to_json(sample());
    const auto env = make_envelope(payload, key);
    auto ok = verify_envelope(env, trust);
    REQUIRE(ok);
    CHECK(ok->payload == payload);
    CHECK(ok->keyid == key.public_key().keyid());

    // Flip each character of the base64 payload in turn at a few places: every one must fail.
    const auto at = env.find("\"payload\":\"") + 11;
    for (std::size_t off : {std::size_t{0}, std::size_t{40}, std::size_t{200}}) {
        auto bad = env;
        bad[at + off] = bad[at + off] == 'A' ? 'B' : 'A';
        auto r = verify_envelope(bad, trust);
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("does not match") != std::string::npos);
    }
}

TEST_CASE("an envelope signed by an unknown key is refused, naming the key") {
    auto key = StationKey::generate();
    auto other = StationKey::generate();
    TrustStore trust;
    trust.add(bind(other));
    auto r = verify_envelope(make_envelope("{}", key), trust);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "signature by untrusted key " + key.public_key().keyid());
}

TEST_CASE("a station key is created with its binding first and a 0600 secret, and loads back") {
    auto dir = std::filesystem::temp_directory_path() / ("rig-key-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    auto key = create_station_key(dir / "station.key", dir / "trust", "line1-3", "2026-11-23T10:00:00.000Z");
    REQUIRE(key);
    auto perms = std::filesystem::status(dir / "station.key").permissions();
    CHECK((perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) == std::filesystem::perms::none);
    auto loaded = StationKey::load(dir / "station.key");
    REQUIRE(loaded);
    CHECK(loaded->public_key().hex() == key->public_key().hex());
    TrustStore trust;
    REQUIRE(trust.add_directory(dir / "trust"));
    CHECK(trust.check(key->public_key().keyid(), "line1-3", "2026-11-23T10:00:01.000Z"));
    CHECK(verify_envelope(make_envelope("x", *loaded), trust));
    auto again = create_station_key(dir / "station.key", dir / "trust", "line1-3", "2026-11-24T10:00:00.000Z");
    REQUIRE_FALSE(again);
    CHECK(again.error().message == (dir / "station.key").string() + ": a station key exists already; move it away first");
    std::filesystem::permissions(dir / "station.key", std::filesystem::perms::group_read, std::filesystem::perm_options::add);
    auto loose = StationKey::load(dir / "station.key");
    REQUIRE_FALSE(loose);
    CHECK(loose.error().message.find("mode 0640 lets others read the station's secret key") != std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("verify checks the hash chain and names a broken link or a gap") {
    auto key = StationKey::generate();
    TrustStore trust;
    trust.add(bind(key));
    auto p1 = to_json(sample(1));
    auto p2 = to_json(sample(2, sha256_hex(p1)));
    auto p3 = to_json(sample(3, sha256_hex(p2)));
    std::vector<Item> items{{"c1", make_envelope(p1, key), {}}, {"c2", make_envelope(p2, key), {}}, {"c3", make_envelope(p3, key), {}}};
    auto whole = verify(items, trust, true);
    REQUIRE(whole.chain_problems.size() == 1);  // an archive without any checkpoint could have lost its tail
    CHECK(whole.chain_problems[0] == "station line1-3: no signed checkpoint found, so a deleted tail could not be seen (give --checkpoint FILE)");
    CHECK(verify(items, trust, true, {{"cp", sign_checkpoint({"line1-3", 3, sha256_hex(p3), "2026-11-22T10:00:10.000Z"}, key)}}).ok());

    auto gap = items;
    gap.erase(gap.begin() + 1);
    auto r = verify(gap, trust, true, {{"cp", sign_checkpoint({"line1-3", 3, sha256_hex(p3), "2026-11-22T10:00:10.000Z"}, key)}});
    REQUIRE(r.chain_problems.size() == 1);
    CHECK(r.chain_problems[0] == "station line1-3: certificates 2..2 are missing before c3");
    CHECK(verify(gap, trust, false).ok());  // a loose set of files may skip certificates

    auto forged = to_json(sample(3, std::string(64, '0')));
    auto broken = items;
    broken[2] = {"c3", make_envelope(forged, key), {}};
    auto b = verify(broken, trust, false);
    REQUIRE(b.chain_problems.size() == 1);
    CHECK(b.chain_problems[0] == "c3: previous_sha256 does not match c2 (chain broken)");
}
