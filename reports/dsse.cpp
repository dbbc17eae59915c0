#include "reports/dsse.hpp"

#include "reports/text.hpp"
#include "reports/trust.hpp"

#include <boost/json.hpp>
#include <cstring>
#include <optional>
#include <fmt/format.h>
#include <fstream>
#include <sodium.h>
#include <sstream>
#include <sys/stat.h>

namespace rig::reports {
namespace json = boost::json;
namespace fs = std::filesystem;
namespace {

struct SodiumInit {
    SodiumInit() {
        if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    }
};
void ensure_sodium() { static SodiumInit init; }

std::string to_hex(const unsigned char* p, std::size_t n) {
    std::string out(n * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), p, n);
    out.pop_back();
    return out;
}

bool from_hex(std::string_view hex, unsigned char* out, std::size_t n) {
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_hex2bin(out, n, hex.data(), hex.size(), nullptr, &len, &end) != 0) return false;
    return len == n && end == hex.data() + hex.size();
}

std::string b64(const unsigned char* p, std::size_t n) {
    std::string out(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), p, n, sodium_base64_VARIANT_ORIGINAL);
    out.resize(std::strlen(out.c_str()));
    return out;
}

std::optional<std::string> unb64(std::string_view s) {
    std::string out(s.size(), '\0');
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), s.data(), s.size(), nullptr, &len,
                          &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != s.data() + s.size())
        return std::nullopt;
    out.resize(len);
    return out;
}

Result<std::string> read_trimmed(const fs::path& file) {
    std::ifstream in(file);
    if (!in) return make_error(Errc::not_found, fmt::format("{}: cannot open", file.string()));
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    return s;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
    ensure_sodium();
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    return to_hex(h, sizeof h);
}

std::string pae(std::string_view type, std::string_view payload) {
    return fmt::format("DSSEv1 {} {} {} {}", type.size(), type, payload.size(), payload);
}

std::string PublicKey::keyid() const {
    return "ed25519:" + sha256_hex({reinterpret_cast<const char*>(bytes.data()), bytes.size()}).substr(0, 16);
}
std::string PublicKey::hex() const { return to_hex(bytes.data(), bytes.size()); }

StationKey StationKey::generate() {
    ensure_sodium();
    StationKey k;
    crypto_sign_keypair(k.pub_.bytes.data(), k.secret_.data());
    return k;
}

Result<StationKey> StationKey::load(const fs::path& file) {
    ensure_sodium();
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) return make_error(Errc::not_found, fmt::format("{}: cannot open", file.string()));
    if (!S_ISREG(st.st_mode)) return make_error(Errc::invalid_argument, fmt::format("{}: not a regular file", file.string()));
    if (st.st_mode & 077)
        return make_error(Errc::invalid_argument, fmt::format("{}: mode {:04o} lets others read the station's secret key; chmod 600 it (and check "
                                                              "who read it)", file.string(), st.st_mode & 07777));
    auto text = read_trimmed(file);
    if (!text) return text.error();
    StationKey k;
    if (!from_hex(*text, k.secret_.data(), k.secret_.size()))
        return make_error(Errc::invalid_argument, fmt::format("{}: not a station secret key (want 128 hex digits)", file.string()));
    crypto_sign_ed25519_sk_to_pk(k.pub_.bytes.data(), k.secret_.data());
    return k;
}

std::string StationKey::secret_hex() const { return to_hex(secret_.data(), secret_.size()); }

std::optional<PublicKey> PublicKey::from_hex(std::string_view hex) {
    PublicKey k;
    if (!rig::reports::from_hex(hex, k.bytes.data(), k.bytes.size())) return std::nullopt;
    return k;
}

std::array<unsigned char, 64> StationKey::sign(std::string_view message) const {
    std::array<unsigned char, 64> sig{};
    crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                         secret_.data());
    return sig;
}

std::string make_envelope(std::string_view payload, const StationKey& key, std::string_view payload_type) {
    auto sig = key.sign(pae(payload_type, payload));
    json::object env;
    env["payloadType"] = payload_type;
    env["payload"] = b64(reinterpret_cast<const unsigned char*>(payload.data()), payload.size());
    env["signatures"] = json::array{json::object{{"keyid", key.public_key().keyid()}, {"sig", b64(sig.data(), sig.size())}}};
    return json::serialize(env);
}

Result<Verified> verify_envelope(std::string_view text, const TrustStore& trust, std::string_view payload_type) {
    ensure_sodium();
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return make_error(Errc::integrity, "envelope is not a JSON object");
    const auto& o = v.get_object();
    auto* type = o.if_contains("payloadType");
    auto* payload = o.if_contains("payload");
    auto* sigs = o.if_contains("signatures");
    if (!type || !type->is_string() || !payload || !payload->is_string() || !sigs || !sigs->is_array())
        return make_error(Errc::integrity, "envelope lacks payloadType, payload or signatures");
    if (type->get_string() != payload_type)
        return make_error(Errc::integrity, fmt::format("envelope payloadType '{}' is not '{}'", printable(type->get_string()), payload_type));
    auto body = unb64(payload->get_string());
    if (!body) return make_error(Errc::integrity, "envelope payload is not valid base64");
    const std::string message = pae(payload_type, *body);
    std::string last_error = "envelope has no signatures";
    for (const auto& sv : sigs->get_array()) {
        if (!sv.is_object()) continue;
        auto* keyid = sv.get_object().if_contains("keyid");
        auto* sig = sv.get_object().if_contains("sig");
        if (!keyid || !keyid->is_string() || !sig || !sig->is_string()) continue;
        const std::string id(keyid->get_string());
        const auto* key = trust.find(id);
        if (!key) {
            last_error = fmt::format("signature by untrusted key {}", printable(id));
            continue;
        }
        auto raw = unb64(sig->get_string());
        if (!raw || raw->size() != crypto_sign_BYTES) {
            last_error = fmt::format("signature by {} is malformed", printable(id));
            continue;
        }
        if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(raw->data()),
                                        reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                        key->bytes.data()) != 0) {
            last_error = fmt::format("signature by {} does not match the payload", id);
            continue;
        }
        return Verified{std::move(*body), id};
    }
    return make_error(Errc::integrity, last_error);
}

}  // namespace rig::reports
