// A small expected-like type: expected failures are values, not exceptions.
#pragma once
#include <string>
#include <utility>
#include <variant>

namespace rig {

enum class Errc {
    invalid_argument,  // bad input from a file, a flag or a frame
    parse_error,
    not_found,
    timeout,
    io_error,
    protocol_error,    // the peer answered, but wrongly (error reply, bad payload)
    limit_failed,
    cancelled,
    integrity,         // signature, hash or chain mismatch
};

struct Error {
    Errc code;
    std::string message;
};

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    explicit operator bool() const noexcept { return v_.index() == 0; }
    bool ok() const noexcept { return v_.index() == 0; }
    T& operator*() & { return std::get<0>(v_); }
    const T& operator*() const& { return std::get<0>(v_); }
    T&& operator*() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error error) : err_(std::move(error)), ok_(false) {}
    explicit operator bool() const noexcept { return ok_; }
    bool ok() const noexcept { return ok_; }
    const Error& error() const { return err_; }

private:
    Error err_{Errc::invalid_argument, {}};
    bool ok_ = true;
};

inline Error make_error(Errc code, std::string message) { return Error{code, std::move(message)}; }

}  // namespace rig
