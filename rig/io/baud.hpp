// Non-standard serial speeds (CRSF's 420,000 baud) through termios2/BOTHER, which Asio's
// serial_port::baud_rate cannot set. Its own translation unit: <asm/termbits.h> and
// <termios.h> cannot share one.
#pragma once
#include <string>

namespace rig::io {

// Sets `baud` on an open tty; an empty string on success, else the system's reason.
std::string set_custom_baud(int fd, unsigned baud);

}  // namespace rig::io
