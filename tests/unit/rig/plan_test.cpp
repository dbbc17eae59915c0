#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "rig/plan/plan.hpp"
#include "rig/steps/steps.hpp"

using namespace rig;
using namespace rig::plan;
namespace fs = std::filesystem;

namespace {
// The step kinds rig offers (a function: the catalogue is built on first use, never during static initialisation).
const Catalogue& kKinds() { return rig::steps::catalogue(); }
const fs::path kVariants = fs::path(RIG_SOURCE_DIR) / "fixtures" / "variants";

struct TempDir {
    fs::path path = fs::temp_directory_path() / ("rig-plan-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    TempDir() { fs::create_directories(path); }
    ~TempDir() { fs::remove_all(path); }
    fs::path write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name) << text;
        return path / name;
    }
    static inline int counter = 0;
};

std::string load_error(const std::string& text) {
    TempDir d;
    auto f = d.write("v.toml", text);
    auto r = load(f, kKinds());
    REQUIRE_FALSE(r);
    // Messages name the file: strip the temp directory to compare.
    auto m = r.error().message;
    auto pos = m.find(f.string());
    if (pos != std::string::npos) m.replace(pos, f.string().size(), "v.toml");
    return m;
}

const char* kMinimal = R"(id = "v"
sequence = ["idle"]
[steps.idle]
kind = "power.idle_current"
)";
}  // namespace

TEST_CASE("the shipped variant loads with inheritance resolved") {
    auto p = load_variant(kVariants, "fpv5-bf", kKinds());
    REQUIRE_MESSAGE(p, (p ? "" : p.error().message));
    CHECK(p->id == "fpv5-bf");
    REQUIRE(p->steps.size() == 7);
    CHECK(p->steps[0].id == "identity");
    CHECK(p->steps[6].kind == "vtx.power");
    CHECK(p->steps[6].text("levels") == "1,3,5");
    CHECK(p->steps[4].kind == "motors.spin");
    CHECK(p->steps[4].number("throttle_pct") == 30);
    CHECK(p->steps[0].limit("fc_variant")->text == "BTFL");         // from the base
    CHECK(p->steps[0].limit("board")->text == "S7X2");              // from the child
    CHECK(p->steps[4].limit("rpm")->describe() == "[8500, 11500] rpm");
    CHECK(p->files.size() == 2);
    CHECK(p->sha256.size() == 64);
}

TEST_CASE("the plan hash is taken over the resolved plan, not the file bytes") {
    TempDir d;
    auto a = d.write("a.toml", std::string(kMinimal) + "params = { samples = 5 }\n");
    auto b = d.write("b.toml", std::string("# a comment changes nothing\n") + kMinimal);
    auto c = d.write("c.toml", std::string(kMinimal) + "params = { samples = 6 }\n");
    auto pa = load(a, kKinds()), pb = load(b, kKinds()), pc = load(c, kKinds());
    REQUIRE(pa);
    REQUIRE(pb);
    REQUIRE(pc);
    CHECK(pa->sha256 == pb->sha256);  // samples = 5 is the default
    CHECK(pa->sha256 != pc->sha256);
}

TEST_CASE("malformed TOML names file, line and column") {
    auto m = load_error("id = \"v\"\nsequence = [\n");
    INFO(m);
    CHECK(m == "v.toml:2:14: Error while parsing array: encountered end-of-file");
}

TEST_CASE("an unknown limit key is named with a suggestion") {
    auto m = load_error(std::string(kMinimal) + "[steps.idle.limits]\ncurent = { max = 1 }\n");
    CHECK(m == "v.toml:6:1: unknown limit key 'curent' in step 'idle' (did you mean 'current'?)");
}

TEST_CASE("a recorded measurement takes no limit") {
    auto m = load_error("id = \"v\"\nsequence = [\"vbat\"]\n[steps.vbat]\nkind = \"power.vbat_accuracy\"\n[steps.vbat.limits]\nvbat_fc = { max = 17 }\n");
    CHECK(m == "v.toml:6:1: step 'vbat': 'vbat_fc' is recorded, never judged: it takes no limit");
}

TEST_CASE("an unknown step kind is named with a suggestion") {
    auto m = load_error("id = \"v\"\nsequence = [\"m\"]\n[steps.m]\nkind = \"motors.spn\"\n");
    CHECK(m == "v.toml:4:8: step 'm': unknown step kind 'motors.spn' (did you mean 'motors.spin'?)");
}

TEST_CASE("plan load errors: param, unit, sequence and limit shape") {
    CHECK(load_error(std::string(kMinimal) + "params = { setle_ms = 3 }\n") ==
          "v.toml:5:12: step 'idle': unknown param 'setle_ms' for kind power.idle_current (did you mean 'settle_ms'?)");
    CHECK(load_error(std::string(kMinimal) + "limits = { current = { max = 300, unit = \"mA\" } }\n") ==
          "v.toml:5:42: limit 'current' of step 'idle': unit 'mA' does not match the measurement's unit 'A'");
    CHECK(load_error(std::string(kMinimal) + "limits = { current = { min = 2, max = 1 } }\n") ==
          "v.toml:5:22: limit 'current' of step 'idle': min 2 is above max 1");
    CHECK(load_error(std::string(kMinimal) + "limits = { current = { min = 1, equals = 1 } }\n") ==
          "v.toml:5:22: limit 'current' of step 'idle': give exactly one of min/max, equals or regex");
    CHECK(load_error("id = \"v\"\nsequence = [\"idel\"]\n[steps.idle]\nkind = \"power.idle_current\"\n") ==
          "v.toml:2:13: key 'sequence': no step 'idel' in [steps] (did you mean 'idle'?)");
    CHECK(load_error(std::string(kMinimal) + "[steps.extra]\nkind = \"power.idle_current\"\n") ==
          "v.toml:5:8: step 'extra' is defined but not in 'sequence' (a step is never skipped silently)");
    CHECK(load_error("sequence = []\n") == "v.toml:1:1: missing key 'id'");
    CHECK(load_error(std::string(kMinimal) + "params = { samples = 0 }\n") == "v.toml:5:22: step 'idle': param 'samples' = 0 outside 1..1000");
}

TEST_CASE("extends: a missing parent and a cycle are reported") {
    TempDir d;
    d.write("a.toml", "extends = \"b.toml\"\nid = \"a\"\n");
    d.write("b.toml", "extends = \"a.toml\"\n");
    auto r = load(d.path / "a.toml", kKinds());
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("extends cycle") != std::string::npos);
    d.write("c.toml", "extends = \"nope.toml\"\nid = \"c\"\n");
    auto r2 = load(d.path / "c.toml", kKinds());
    REQUIRE_FALSE(r2);
    CHECK(r2.error().message.find("nope.toml: no such variant file") != std::string::npos);
}

TEST_CASE("a missing variant is named with a suggestion") {
    auto r = load_variant(kVariants, "fpv5-btf", kKinds());
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("no variant 'fpv5-btf' (did you mean 'fpv5-bf'?)") != std::string::npos);
}

TEST_CASE("limit edges: bounds are inclusive, NaN fails, one-sided ranges work") {
    Limit l;
    l.min = 1.0;
    l.max = 2.0;
    CHECK(l.check(1.0) == Verdict::pass);
    CHECK(l.check(2.0) == Verdict::pass);
    CHECK(l.check(std::nextafter(1.0, 0.0)) == Verdict::fail);
    CHECK(l.check(std::nextafter(2.0, 3.0)) == Verdict::fail);
    CHECK(l.check(std::nan("")) == Verdict::fail);
    CHECK(l.check(INFINITY) == Verdict::fail);
    Limit upper;
    upper.max = 0.5;
    CHECK(upper.check(-1e9) == Verdict::pass);
    CHECK(upper.check(0.5) == Verdict::pass);
    CHECK(upper.check(0.51) == Verdict::fail);
    CHECK(upper.check(std::nan("")) == Verdict::fail);
    Limit eq;
    eq.kind = Limit::Kind::equals_text;
    eq.text = "BTFL";
    CHECK(eq.check(std::string("BTFL")) == Verdict::pass);
    CHECK(eq.check(std::string("INAV")) == Verdict::fail);
    CHECK(eq.check(1.0) == Verdict::fail);
    Limit re;
    re.kind = Limit::Kind::regex;
    re.text = "^2026\\.12\\.";
    CHECK(re.check(std::string("2026.12.0-alpha")) == Verdict::pass);
    CHECK(re.check(std::string("2025.12.0")) == Verdict::fail);
}

TEST_CASE("a bad serial_regex and a bad limit regex are named with their line") {
    CHECK(load_error(std::string("serial_regex = \"([\"\n") + kMinimal).rfind("v.toml:1:16: key 'serial_regex': bad regex '([': ", 0) == 0);
    auto m = load_error("id = \"v\"\nsequence = [\"identity\"]\n[steps.identity]\nkind = \"fc.identity\"\nlimits = { firmware = { regex = \"(\" } }\n");
    CHECK(m.rfind("v.toml:5:33: limit 'firmware' of step 'identity': bad regex '(': ", 0) == 0);
    auto t = load_error("id = \"v\"\nsequence = [\"identity\"]\n[steps.identity]\nkind = \"fc.identity\"\nlimits = { board = { min = 1 } }\n");
    CHECK(t == "v.toml:5:20: limit 'board' of step 'identity': 'board' is a text measurement");
}
