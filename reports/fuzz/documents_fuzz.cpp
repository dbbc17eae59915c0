// libFuzzer target: every signed document QA reads from outside the station: a certificate's
// payload, a checkpoint, a bundle manifest, a key binding, a root key, a DSSE envelope (as a
// certificate, a checkpoint and an endorsement). The first byte picks the parser; whatever parses
// must print and parse back to the same text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "reports/bundle.hpp"
#include "reports/certificate.hpp"
#include "reports/checkpoint.hpp"
#include "reports/dsse.hpp"
#include "reports/trust.hpp"
#include "reports/verify.hpp"

namespace {

using namespace rig::reports;

// The root and the station binding whose envelopes seed the corpus (from an e2e run; the secret
// keys were thrown away), so mutated envelopes get past the signature into the payload parsers.
constexpr const char* kRoot = "root=qa\nkey=9ec4a3d423e8d77fb9836cfac3fda39460dd4956d7ed872b2fc8790914ea2da2\n";
constexpr const char* kBinding = "# rig station key binding: this key signs for this station only\nstation=sim-line1\n"
    "key=3171f5b2b7ae6d51f8b732ec7fe945651e270e0534b1d8578d73355278e8749b\nnot_before=2026-11-24T14:34:57.220Z\n";

const TrustStore& trust() {
    static const TrustStore store = [] {
        TrustStore t;
        if (auto r = parse_root(kRoot, "qa.root.pub")) t.add(*r);
        if (auto b = parse_binding(kBinding, "sim-line1.pub")) t.add(*b);
        return t;
    }();
    return store;
}

template <class Parse, class Print>
void round_trip(std::string_view text, Parse parse, Print print) {
    auto a = parse(text);
    if (!a) {
        if (a.error().message.empty()) __builtin_trap();  // every refusal says why
        return;
    }
    const std::string once = print(*a);
    auto b = parse(once);
    if (!b || print(*b) != once) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 8) {
    case 0: round_trip(text, [](std::string_view t) { return from_json(t); }, [](const Certificate& c) { return to_json(c); }); break;
    case 1: round_trip(text, [](std::string_view t) { return checkpoint_from_json(t); }, [](const Checkpoint& c) { return to_json(c); }); break;
    case 2: round_trip(text, [](std::string_view t) { return manifest_from_json(t); }, [](const Manifest& m) { return to_json(m); }); break;
    case 3: round_trip(text, [](std::string_view t) { return parse_binding(t, "fuzz.pub"); }, [](const KeyBinding& b) { return to_text(b); }); break;
    case 4: round_trip(text, [](std::string_view t) { return parse_root(t, "fuzz.root.pub"); }, [](const RootKey& r) { return to_text(r); }); break;
    case 5: (void)verify_certificate(text, trust()); break;
    case 6: (void)verify_checkpoint(text, trust()); break;
    case 7: {
        TrustStore t = trust();
        (void)t.add_endorsed(kBinding, text, "sim-line1.pub.endorsement.json");
        (void)verify_envelope(text, t, kBindingType);
        break;
    }
    }
    return 0;
}
