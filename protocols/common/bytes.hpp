// Bounded little-endian readers and writers: a read past the end fails, never overruns.
// A failed read is sticky: every later read of the same reader fails too, so a decoder that
// checks only its last field can never see a short field read after a long one failed.
#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace rig {

using Bytes = std::vector<std::byte>;
using ByteView = std::span<const std::byte>;

inline Bytes to_bytes(std::initializer_list<int> values) {
    Bytes out;
    out.reserve(values.size());
    for (int v : values) out.push_back(static_cast<std::byte>(v));
    return out;
}
inline ByteView as_bytes(const std::string& s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

class ByteReader {
public:
    explicit ByteReader(ByteView data) : data_(data) {}

    std::size_t remaining() const noexcept { return failed_ ? 0 : data_.size() - pos_; }
    bool empty() const noexcept { return remaining() == 0; }
    bool failed() const noexcept { return failed_; }

    std::optional<std::uint8_t> u8() {
        if (!have(1)) return std::nullopt;
        return std::to_integer<std::uint8_t>(data_[pos_++]);
    }
    std::optional<std::uint16_t> u16le() { return le<std::uint16_t>(2); }
    std::optional<std::uint32_t> u32le() { return le<std::uint32_t>(4); }
    std::optional<std::int16_t> i16le() {
        auto v = u16le();
        if (!v) return std::nullopt;
        return static_cast<std::int16_t>(*v);
    }
    std::optional<std::int32_t> i32le() {
        auto v = u32le();
        if (!v) return std::nullopt;
        return static_cast<std::int32_t>(*v);
    }
    std::optional<std::uint64_t> u64le() { return le<std::uint64_t>(8); }
    std::optional<std::int8_t> i8() {
        auto v = u8();
        if (!v) return std::nullopt;
        return static_cast<std::int8_t>(*v);
    }
    std::optional<float> f32le() {
        auto v = u32le();
        if (!v) return std::nullopt;
        return std::bit_cast<float>(*v);
    }
    std::optional<std::uint16_t> u16be() { return be<std::uint16_t>(2); }
    std::optional<std::uint32_t> u24be() { return be<std::uint32_t>(3); }
    std::optional<std::uint32_t> u32be() { return be<std::uint32_t>(4); }
    std::optional<std::int16_t> i16be() {
        auto v = u16be();
        if (!v) return std::nullopt;
        return static_cast<std::int16_t>(*v);
    }
    // Characters up to a NUL (consumed, not returned); nullopt when no NUL before the end.
    std::optional<std::string> cstring() {
        if (failed_) return std::nullopt;
        for (std::size_t i = pos_; i < data_.size(); ++i) {
            if (data_[i] == std::byte{0}) {
                std::string s(reinterpret_cast<const char*>(data_.data() + pos_), i - pos_);
                pos_ = i + 1;
                return s;
            }
        }
        failed_ = true;
        return std::nullopt;
    }
    ByteView rest() {
        if (failed_) return {};
        auto v = data_.subspan(pos_);
        pos_ = data_.size();
        return v;
    }
    std::optional<std::string> chars(std::size_t n) {
        if (!have(n)) return std::nullopt;
        std::string s(reinterpret_cast<const char*>(data_.data() + pos_), n);
        pos_ += n;
        return s;
    }
    // u8 length, then that many characters.
    std::optional<std::string> pstring() {
        auto n = u8();
        if (!n) return std::nullopt;
        return chars(*n);
    }
    std::optional<ByteView> take(std::size_t n) {
        if (!have(n)) return std::nullopt;
        auto v = data_.subspan(pos_, n);
        pos_ += n;
        return v;
    }

private:
    bool have(std::size_t n) {
        if (remaining() < n) failed_ = true;
        return !failed_;
    }
    template <class T>
    std::optional<T> be(std::size_t n) {
        if (!have(n)) return std::nullopt;
        T v = 0;
        for (std::size_t i = 0; i < n; ++i) v = static_cast<T>((v << 8) | std::to_integer<T>(data_[pos_ + i]));
        pos_ += n;
        return v;
    }
    template <class T>
    std::optional<T> le(std::size_t n) {
        if (!have(n)) return std::nullopt;
        T v = 0;
        for (std::size_t i = 0; i < n; ++i)
            v |= static_cast<T>(std::to_integer<T>(data_[pos_ + i]) << (8 * i));
        pos_ += n;
        return v;
    }

    ByteView data_;
    std::size_t pos_ = 0;
    bool failed_ = false;
};

class ByteWriter {
public:
    ByteWriter& u8(std::uint8_t v) {
        out_.push_back(static_cast<std::byte>(v));
        return *this;
    }
    ByteWriter& u16le(std::uint16_t v) { return u8(v & 0xFF).u8(v >> 8); }
    ByteWriter& u32le(std::uint32_t v) { return u16le(v & 0xFFFF).u16le(v >> 16); }
    ByteWriter& i16le(std::int16_t v) { return u16le(static_cast<std::uint16_t>(v)); }
    ByteWriter& i32le(std::int32_t v) { return u32le(static_cast<std::uint32_t>(v)); }
    ByteWriter& u64le(std::uint64_t v) { return u32le(static_cast<std::uint32_t>(v)).u32le(static_cast<std::uint32_t>(v >> 32)); }
    ByteWriter& i8(std::int8_t v) { return u8(static_cast<std::uint8_t>(v)); }
    ByteWriter& f32le(float v) { return u32le(std::bit_cast<std::uint32_t>(v)); }
    ByteWriter& u16be(std::uint16_t v) { return u8(v >> 8).u8(v & 0xFF); }
    ByteWriter& i16be(std::int16_t v) { return u16be(static_cast<std::uint16_t>(v)); }
    ByteWriter& u24be(std::uint32_t v) { return u8((v >> 16) & 0xFF).u8((v >> 8) & 0xFF).u8(v & 0xFF); }
    ByteWriter& u32be(std::uint32_t v) { return u16be(static_cast<std::uint16_t>(v >> 16)).u16be(v & 0xFFFF); }
    ByteWriter& cstring(std::string_view s) { return chars(s).u8(0); }
    // Exactly n bytes: cut, or NUL-padded (MAVLink char[N] fields).
    ByteWriter& fixed(std::string_view s, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) u8(i < s.size() ? static_cast<std::uint8_t>(s[i]) : 0);
        return *this;
    }
    ByteWriter& chars(std::string_view s) {
        for (char c : s) u8(static_cast<std::uint8_t>(c));
        return *this;
    }
    // Strings longer than 255 are cut: the length byte cannot say more.
    ByteWriter& pstring(std::string_view s) {
        if (s.size() > 255) s = s.substr(0, 255);
        return u8(static_cast<std::uint8_t>(s.size())).chars(s);
    }
    ByteWriter& bytes(ByteView b) {
        out_.insert(out_.end(), b.begin(), b.end());
        return *this;
    }
    ByteWriter& zeros(std::size_t n) {
        out_.insert(out_.end(), n, std::byte{0});
        return *this;
    }
    Bytes take() { return std::move(out_); }
    const Bytes& view() const { return out_; }

private:
    Bytes out_;
};

}  // namespace rig
