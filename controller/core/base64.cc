#include "controller/core/base64.h"

#include <array>
#include <cstdint>

namespace rio::base64 {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr int kInvalid = -1;
constexpr int kSkip = -2;
constexpr int kPad = -3;

constexpr std::array<int, 256> makeTable() {
  std::array<int, 256> table{};
  for (auto& v : table) v = kInvalid;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
  }
  for (unsigned char c : {' ', '\t', '\r', '\n', '\f', '\v'}) table[c] = kSkip;
  table['='] = kPad;
  return table;
}

constexpr std::array<int, 256> kTable = makeTable();

}  // namespace

std::string encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    std::uint32_t n = (static_cast<unsigned char>(data[i]) << 16) |
                      (static_cast<unsigned char>(data[i + 1]) << 8) |
                      static_cast<unsigned char>(data[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const std::size_t rest = data.size() - i;
  if (rest == 1) {
    std::uint32_t n = static_cast<unsigned char>(data[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    std::uint32_t n = (static_cast<unsigned char>(data[i]) << 16) |
                      (static_cast<unsigned char>(data[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

Expected<std::string> decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t quantum = 0;
  int filled = 0;   // sextets in the current quantum
  int padding = 0;  // '=' seen in the current (final) quantum
  bool finished = false;
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    const int v = kTable[static_cast<unsigned char>(text[pos])];
    if (v == kSkip) continue;
    if (v == kInvalid) {
      return fail(
          Error::invalid("invalid base64: unexpected character at offset " + std::to_string(pos)));
    }
    if (finished) {
      return fail(
          Error::invalid("invalid base64: data after padding at offset " + std::to_string(pos)));
    }
    if (v == kPad) {
      // Padding only completes a quantum that already holds two or three sextets.
      if (filled + padding < 2) {
        return fail(
            Error::invalid("invalid base64: misplaced padding at offset " + std::to_string(pos)));
      }
      ++padding;
      if (filled + padding == 4) finished = true;
      continue;
    }
    if (padding > 0) {
      return fail(
          Error::invalid("invalid base64: data after padding at offset " + std::to_string(pos)));
    }
    quantum = (quantum << 6) | static_cast<std::uint32_t>(v);
    if (++filled == 4) {
      out += static_cast<char>((quantum >> 16) & 0xff);
      out += static_cast<char>((quantum >> 8) & 0xff);
      out += static_cast<char>(quantum & 0xff);
      quantum = 0;
      filled = 0;
    }
  }
  if (finished) {
    // Go's StdEncoding (not Strict) ignores non-zero trailing bits; so do we.
    if (filled == 2) {
      out += static_cast<char>((quantum >> 4) & 0xff);
    } else {  // filled == 3
      out += static_cast<char>((quantum >> 10) & 0xff);
      out += static_cast<char>((quantum >> 2) & 0xff);
    }
    return out;
  }
  if (filled != 0 || padding != 0) {
    return fail(Error::invalid("invalid base64: truncated input (length is not a multiple of 4)"));
  }
  return out;
}

}  // namespace rio::base64
