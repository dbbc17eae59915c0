#include "rig/io/baud.hpp"

#include <asm/termbits.h>
#include <cerrno>
#include <cstring>
#include <sys/ioctl.h>

namespace rig::io {

std::string set_custom_baud(int fd, unsigned baud) {
    struct termios2 t {};
    if (::ioctl(fd, TCGETS2, &t) != 0) return std::strerror(errno);
    t.c_cflag &= ~CBAUD;
    t.c_cflag |= BOTHER;
    t.c_ispeed = baud;
    t.c_ospeed = baud;
    t.c_cflag &= ~(CBAUD << IBSHIFT);
    t.c_cflag |= BOTHER << IBSHIFT;
    if (::ioctl(fd, TCSETS2, &t) != 0) return std::strerror(errno);
    return {};
}

}  // namespace rig::io
