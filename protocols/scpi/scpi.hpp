// SCPI / IEEE 488.2 message building and response parsing (reference/protocols.md §8), sans-IO.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "protocols/common/bytes.hpp"
#include "protocols/common/result.hpp"

namespace rig::scpi {

// A program message: header, then arguments separated by commas; strings are quoted with
// embedded quotes doubled; numbers in shortest round-trip form; ends with LF.
using Arg = std::variant<double, long long, bool, std::string>;
std::string command(std::string_view header, const std::vector<Arg>& args = {});
std::string quote(std::string_view text);

// Response parsing. Each names the text at fault on failure.
Result<double> parse_number(std::string_view text);     // NR1 / NR2 / NR3, optional sign, INF/NAN keywords
Result<long long> parse_integer(std::string_view text);
Result<bool> parse_bool(std::string_view text);         // 1/0, ON/OFF
Result<std::string> parse_string(std::string_view text);  // "..." or '...' with doubled quotes, or bare
std::vector<std::string> split_list(std::string_view text);  // on commas outside quotes; trims spaces
Result<std::vector<double>> parse_number_list(std::string_view text);

struct ErrorEntry {
    int code = 0;
    std::string message;
    bool is_error() const { return code != 0; }
};
Result<ErrorEntry> parse_error(std::string_view text);  // SYST:ERR? reply: -113,"Undefined header"

struct Identity {
    std::string vendor, model, serial, firmware;
    std::string raw;
};
Result<Identity> parse_idn(std::string_view text);  // tolerant: 3..5 fields, an "*IDN " prefix

// IEEE 488.2 arbitrary blocks.
struct Block {
    Bytes data;
    std::size_t consumed = 0;  // bytes of the input the block occupied (header + data)
};
// A definite (#NL...) or indefinite (#0...) block at the start of `bytes`; nullopt when more
// bytes are needed; an error when the header is malformed.
Result<std::optional<Block>> parse_block(ByteView bytes, bool end_of_message = false);
Bytes make_block(ByteView data);  // definite-length

// Splits a byte stream into response messages at LF, reading definite-length blocks whole so
// an LF inside binary data does not end a message. Trailing CR is removed.
class ResponseReader {
public:
    static constexpr std::size_t kMaxMessage = 1 << 20;
    std::vector<std::string> feed(ByteView bytes);
    std::uint64_t overlong() const noexcept { return overlong_; }

private:
    std::string buf_;
    std::size_t scanned_ = 0;
    std::uint64_t overlong_ = 0;
};

}  // namespace rig::scpi
