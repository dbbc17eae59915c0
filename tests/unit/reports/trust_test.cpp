// Trust: station-key bindings, checkpoints, derived columns and strict signed fields.
#include <doctest/doctest.h>

#include <cmath>

#include "reports/certificate.hpp"
#include "reports/checkpoint.hpp"
#include "reports/trust.hpp"
#include "reports/verify.hpp"

using namespace rig::reports;

namespace {
const std::string kT0 = "2026-01-01T00:00:00.000Z";

Certificate cert(std::uint64_t seq, std::string prev, std::string station = "line1-3", std::string finished = "") {
    Certificate c;
    c.unit = {"FPV5-00000" + std::to_string(seq), "fpv5-bf", "LOT-A"};
    c.verdict = Verdict::pass;
    c.station = {std::move(station), "JIG-0042", "2027-06-30", "0.1.0", seq, {}};
    c.operator_id = "op7";
    c.plan = {"fpv5-bf", std::string(64, 'a')};
    c.started_at = "2026-11-22T10:00:00.000Z";
    c.finished_at = finished.empty() ? "2026-11-22T10:00:0" + std::to_string(seq) + ".000Z" : finished;
    c.previous_sha256 = std::move(prev);
    return c;
}

struct History {
    StationKey key = StationKey::generate();
    TrustStore trust;
    std::vector<std::string> payloads;
    std::vector<Item> items;
    explicit History(int n) {
        trust.add({"line1-3", key.public_key(), kT0, "", "line1-3.pub"});
        std::string prev;
        for (int i = 1; i <= n; ++i) {
            payloads.push_back(to_json(cert(static_cast<std::uint64_t>(i), prev)));
            prev = sha256_hex(payloads.back());
            items.push_back({"row" + std::to_string(i), make_envelope(payloads.back(), key), std::nullopt});
        }
    }
    CheckpointItem checkpoint(std::uint64_t seq) const {
        return {"cp" + std::to_string(seq), sign_checkpoint({"line1-3", seq, sha256_hex(payloads[seq - 1]), "2026-11-22T10:00:30.000Z"}, key)};
    }
};

std::string all_problems(const VerifyReport& r) {
    std::string s;
    for (const auto& i : r.items)
        if (!i.ok) s += i.name + ": " + i.problem + "\n";
    for (const auto* v : {&r.chain_problems, &r.column_problems, &r.checkpoint_problems})
        for (const auto& p : *v) s += p + "\n";
    return s;
}
}  // namespace

TEST_CASE("an archive whose tail was deleted does not reach its checkpoint") {
    History c(4);
    auto ok = verify(c.items, c.trust, true, {c.checkpoint(4)});
    CHECK(ok.ok());
    auto cut = c.items;
    cut.resize(2);
    auto r = verify(cut, c.trust, true, {c.checkpoint(4)});
    CHECK(all_problems(r) ==
          "station line1-3: the archive ends at sequence 2 but checkpoint cp4 (signed 2026-11-22T10:00:30.000Z) says sequence 4: certificates 3..4 are missing\n");
    auto none = verify({}, c.trust, true, {c.checkpoint(4)});
    CHECK(all_problems(none).find("the archive ends at sequence 0") != std::string::npos);
    // The newest checkpoint found wins: an older one beside it does not excuse the cut.
    CHECK_FALSE(verify(cut, c.trust, true, {c.checkpoint(2), c.checkpoint(4)}).ok());
}

TEST_CASE("a checkpoint signing a different head for the same sequence is a fork") {
    History c(2);
    History other(2);
    other.trust = c.trust;
    auto forged = CheckpointItem{"cpX", sign_checkpoint({"line1-3", 2, std::string(64, 'b'), "2026-11-22T10:00:30.000Z"}, c.key)};
    auto r = verify(c.items, c.trust, true, {forged});
    CHECK(all_problems(r).find("is sequence 2 with sha256") != std::string::npos);
}

TEST_CASE("a certificate signed by another trusted station's key is refused") {
    History c(2);
    auto mallory = StationKey::generate();
    c.trust.add({"line2-1", mallory.public_key(), kT0, "", "line2-1.pub"});
    auto forged = c.items;
    forged.push_back({"row3", make_envelope(to_json(cert(3, sha256_hex(c.payloads[1]))), mallory), std::nullopt});
    auto r = verify(forged, c.trust, true, {c.checkpoint(2)});
    REQUIRE_FALSE(r.ok());
    CHECK(all_problems(r) == "row3: key " + mallory.public_key().keyid() +
                                 " is bound to station line2-1, not to station line1-3 (forged by another station's key?)\n");
    // ...and so is a checkpoint it signs for a station that is not its own.
    auto cp = CheckpointItem{"cpM", sign_checkpoint({"line1-3", 9, std::string(64, 'c'), "2026-11-22T10:00:30.000Z"}, mallory)};
    auto rc = verify(c.items, c.trust, true, {c.checkpoint(2), cp});
    CHECK(rc.checkpoint_problems.size() == 1);
    CHECK(rc.chain_problems.empty());
}

TEST_CASE("a retired key verifies what it signed before rotation and nothing after") {
    auto old_key = StationKey::generate();
    TrustStore trust;
    trust.add({"line1-3", old_key.public_key(), kT0, "2026-11-22T10:00:02.000Z", "old.pub"});
    auto before = verify_certificate(make_envelope(to_json(cert(1, "")), old_key), trust);
    CHECK(before);
    auto after = verify_certificate(make_envelope(to_json(cert(1, "", "line1-3", "2026-11-22T10:00:05.000Z")), old_key), trust);
    REQUIRE_FALSE(after);
    CHECK(after.error().message.find("after it was retired (2026-11-22T10:00:02.000Z, old.pub)") != std::string::npos);
}

TEST_CASE("every edited column and swapped envelopes are reported by row") {
    History c(2);
    auto v1 = verify_certificate(c.items[0].envelope, c.trust);
    REQUIRE(v1);
    Columns good{"line1-3", 1, "FPV5-000001", "fpv5-bf", "LOT-A", "pass", v1->certificate.finished_at, v1->sha256, ""};
    CHECK(column_mismatches(good, *v1).empty());
    auto edited = good;
    edited.verdict = "fail";
    edited.serial = "FPV5-999999";
    auto m = column_mismatches(edited, *v1);
    REQUIRE(m.size() == 2);
    CHECK(m[0] == "column 'serial' is 'FPV5-999999' but the signed payload says 'FPV5-000001'");
    CHECK(m[1] == "column 'verdict' is 'fail' but the signed payload says 'pass'");
    // Row 1 carries row 2's envelope and the other way round: both rows are named.
    auto v2 = verify_certificate(c.items[1].envelope, c.trust);
    REQUIRE(v2);
    Columns second{"line1-3", 2, "FPV5-000002", "fpv5-bf", "LOT-A", "pass", v2->certificate.finished_at, v2->sha256, v1->sha256};
    std::vector<Item> swapped{{"row1", c.items[1].envelope, good}, {"row2", c.items[0].envelope, second}};
    auto r = verify(swapped, c.trust, true, {c.checkpoint(2)});
    REQUIRE(r.column_problems.size() >= 2);
    CHECK(r.column_problems.front().rfind("row1: column", 0) == 0);
    CHECK(r.column_problems.back().rfind("row2: column", 0) == 0);
}

TEST_CASE("a re-inserted certificate claims a sequence twice") {
    History c(2);
    auto twice = c.items;
    twice.push_back({"row3", c.items[1].envelope, std::nullopt});
    auto r = verify(twice, c.trust, true, {c.checkpoint(2)});
    CHECK(all_problems(r) == "row2 and row3: both claim station line1-3 sequence 2\n");
}

// The archive's one-pass verifier: the same verdicts as verify() on a history in commit order,
// items reported as they come, nothing kept.
VerifyReport stream(const std::vector<Item>& items, const TrustStore& trust, const std::vector<CheckpointItem>& cps, std::size_t* bad = nullptr) {
    StreamVerifier v(trust, Chain::complete, cps);
    std::size_t n = 0;
    for (const auto& i : items) n += !v.add(i).ok;
    if (bad) *bad = n;
    return v.finish();
}

TEST_CASE("the streaming verifier agrees with verify() on a history in commit order") {
    History c(5);
    CHECK(stream(c.items, c.trust, {c.checkpoint(5)}).ok());
    CHECK(stream(c.items, c.trust, {c.checkpoint(5)}).items.empty());
    for (int drop = 0; drop < 5; ++drop) {  // a certificate deleted anywhere
        auto cut = c.items;
        cut.erase(cut.begin() + drop);
        CHECK(all_problems(stream(cut, c.trust, {c.checkpoint(5)})) == all_problems(verify(cut, c.trust, true, {c.checkpoint(5)})));
        CHECK_FALSE(all_problems(stream(cut, c.trust, {c.checkpoint(5)})).empty());
    }
    auto bad = c.items;
    bad[2].envelope[bad[2].envelope.find("\"sig\":\"") + 10] ^= 1;
    std::size_t n = 0;
    auto r = stream(bad, c.trust, {c.checkpoint(5)}, &n);
    CHECK(n == 1);
    CHECK(all_problems(r) == "station line1-3: certificates 3..3 are missing before row4\n");
    CHECK(stream(c.items, c.trust, {}).chain_problems ==
          std::vector<std::string>{"station line1-3: no signed checkpoint found, so a deleted tail could not be seen (give --checkpoint FILE)"});
}

TEST_CASE("the streaming verifier names a certificate that comes after a later sequence of its station") {
    History c(3);
    auto again = c.items;
    again.push_back({"row4", c.items[1].envelope, std::nullopt});  // re-inserted after the head
    CHECK(all_problems(stream(again, c.trust, {c.checkpoint(3)})) ==
          "row4: station line1-3 sequence 2 comes after sequence 3 (row3): a second certificate for sequence 2, or rows out of chain order\n");
    auto swapped = c.items;
    std::swap(swapped[1], swapped[2]);
    CHECK(all_problems(stream(swapped, c.trust, {c.checkpoint(3)})) ==
          "station line1-3: certificates 2..2 are missing before row3\n"
          "row2: station line1-3 sequence 2 comes after sequence 3 (row3): a second certificate for sequence 2, or rows out of chain order\n");
    CHECK(verify(swapped, c.trust, true, {c.checkpoint(3)}).ok());  // a set of files has no order
}

TEST_CASE("the streaming verifier keeps at most kMaxProblems of a kind and counts the rest") {
    History c(1);
    StreamVerifier v(c.trust, Chain::complete, {c.checkpoint(1)});
    const std::size_t n = StreamVerifier::kMaxProblems + 7;
    for (std::size_t i = 0; i < n; ++i) {
        Columns wrong{"line1-3", 1, "FPV5-X", "fpv5-bf", "LOT-A", "pass", "2026-11-22T10:00:01.000Z", sha256_hex(c.payloads[0]), ""};
        CHECK(v.add({"row", c.items[0].envelope, wrong}).ok);
    }
    auto r = v.finish();
    CHECK(r.column_problems.size() == StreamVerifier::kMaxProblems);
    CHECK(r.chain_problems.size() == StreamVerifier::kMaxProblems);  // n - 1 second claims of sequence 1
    CHECK(r.unlisted == 7 + (n - 1 - StreamVerifier::kMaxProblems));
    CHECK_FALSE(r.ok());
}

TEST_CASE("a station clock that went backwards along the chain is reported") {
    History c(1);
    auto p2 = to_json(cert(2, sha256_hex(c.payloads[0]), "line1-3", "2026-11-22T09:00:00.000Z"));
    auto items = c.items;
    items.push_back({"row2", make_envelope(p2, c.key), std::nullopt});
    auto cp = CheckpointItem{"cp", sign_checkpoint({"line1-3", 2, sha256_hex(p2), "2026-11-22T10:00:30.000Z"}, c.key)};
    CHECK(all_problems(verify(items, c.trust, true, {cp})) ==
          "row2: created 2026-11-22T09:00:00.000Z before row1 (created 2026-11-22T10:00:01.000Z): the station clock went backwards\n");
}

TEST_CASE("signed numeric fields are validated, never cast") {
    const auto good = to_json(cert(1, ""));
    const auto at = good.find("\"sequence\":1");
    REQUIRE(at != std::string::npos);
    for (auto [bad, shown] : {std::pair{"-1", "-1"}, {"1e300", "1E300"}, {"null", "null"}, {"1.5", "1.5E0"}, {"0", "0"}, {"\"1\"", "\"1\""}}) {
        auto text = good;
        text.replace(at, 12, std::string("\"sequence\":") + bad);
        auto r = from_json(text);
        REQUIRE_FALSE(r);
        CHECK(r.error().message == std::string("certificate: station.sequence: ") + shown + " is not an integer from 1 up");
    }
    auto dur = good;
    const std::string finished = "\"finished_at\":\"2026-11-22T10:00:01.000Z\"";
    dur.replace(good.find(finished), finished.size(), "\"finished_at\":\"yesterday\"");
    CHECK(from_json(dur).error().message == "certificate: $.finished_at: 'yesterday' is not a UTC time like 2026-11-23T10:00:00.000Z");
}

TEST_CASE("structured limits round-trip in the certificate") {
    auto c = cert(1, "");
    StepRecord s{"motors", "motors.spin", Verdict::pass, "", c.started_at, 1.0, {}};
    s.measurements.push_back({"motor1.rpm", 9000, "rpm", "[8500, 11500] rpm", "", Verdict::pass,
                              LimitSpec{LimitSpec::Kind::range, 8500.0, 11500.0, std::nullopt, std::nullopt, "", "rpm"}});
    s.measurements.push_back({"fc_variant", std::nan(""), "", "== BTFL", "BTFL", Verdict::pass,
                              LimitSpec{LimitSpec::Kind::equals, std::nullopt, std::nullopt, std::nullopt, "BTFL", "", ""}});
    s.measurements.push_back({"firmware", std::nan(""), "", "~ /^2026/", "2026.12.0", Verdict::pass,
                              LimitSpec{LimitSpec::Kind::regex, std::nullopt, std::nullopt, std::nullopt, std::nullopt, "^2026", ""}});
    c.steps.push_back(s);
    const auto text = to_json(c);
    CHECK(text.find(R"("limit_spec":{"kind":"range","min":8.5E3,"max":1.15E4,"unit":"rpm"})") != std::string::npos);
    auto back = from_json(text);
    REQUIRE(back);
    REQUIRE(back->steps[0].measurements.size() == 3);
    CHECK(back->steps[0].measurements[0].limit_spec == s.measurements[0].limit_spec);
    CHECK(back->steps[0].measurements[1].limit_spec == s.measurements[1].limit_spec);
    CHECK(back->steps[0].measurements[2].limit_spec == s.measurements[2].limit_spec);
}

TEST_CASE("key binding files name the line at fault") {
    const std::string hex(64, 'a');
    CHECK(parse_binding("station=line1-3\nkey=" + hex + "\nnot_before=" + kT0 + "\n", "f.pub"));
    CHECK(parse_binding("key=" + hex + "\nnot_before=" + kT0 + "\n", "f.pub").error().message ==
          "f.pub: missing station= (a key bound to no station is never trusted)");
    CHECK(parse_binding(hex + "\n", "f.pub").error().message == "f.pub:1: expected key=value");
    CHECK(parse_binding("station=../x\n", "f.pub").error().message == "f.pub:1: station id '../x' does not start with a letter or digit");
    CHECK(parse_binding("station=a\nstaton=b\n", "f.pub").error().message == "f.pub:2: unknown key 'staton' (station, key, not_before, not_after)");
    CHECK(parse_binding("station=a\nkey=" + hex + "\nnot_before=2026-13-01T00:00:00.000Z\n", "f.pub").error().message ==
          "f.pub:3: not_before: '2026-13-01T00:00:00.000Z' is not a UTC time like 2026-11-23T10:00:00.000Z");
}
