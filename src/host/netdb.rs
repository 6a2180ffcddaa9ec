//! Name lookups: `getaddrinfo`, `getnameinfo`, `getprotobyname` and
//! `_emscripten_lookup_name`, as Emscripten's glue answers them: no real
//! DNS; a name that is not an address gets a fake address `172.29.x.y`,
//! remembered both ways for the life of the instance.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use wasmtime::{Caller, Linker};

use super::instance::{HostState, alloc_cstr, cstr_lossy as read_cstr, malloc, memory};
use crate::syscalls::guest;

/// Access to the fake DNS table from the store's data.
pub trait NetdbHost: HostState {
    /// The instance's DNS table.
    fn dns(&mut self) -> &mut Dns;
}

/// The fake DNS table of one instance.
#[derive(Debug, Clone, Default)]
pub struct Dns {
    next_id: u32,
    addr_of: HashMap<String, String>,
    name_of: HashMap<String, String>,
    /// `getprotobyname` entries (`struct protoent`), allocated on first use.
    protocols: Option<HashMap<String, u32>>,
}

impl Dns {
    /// Whether nothing has been looked up yet.
    pub fn untouched(&self) -> bool {
        self.next_id == 0
            && self.addr_of.is_empty()
            && self.name_of.is_empty()
            && self.protocols.is_none()
    }

    /// The address for `name`: itself if it is an address, else a fake one.
    pub fn lookup_name(&mut self, name: &str) -> String {
        if name.parse::<Ipv4Addr>().is_ok() || name.parse::<Ipv6Addr>().is_ok() {
            return name.to_string();
        }
        if let Some(addr) = self.addr_of.get(name) {
            return addr.clone();
        }
        self.next_id += 1;
        let id = self.next_id;
        let addr = format!("172.29.{}.{}", id & 255, id & 65280);
        self.addr_of.insert(name.to_string(), addr.clone());
        self.name_of.insert(addr.clone(), name.to_string());
        addr
    }

    /// The name a fake address was made for.
    pub fn lookup_addr(&self, addr: &str) -> Option<&str> {
        self.name_of.get(addr).map(String::as_str)
    }
}

const AF_INET: i32 = 2;
const AF_INET6: i32 = 10;
const EAI_BADFLAGS: i32 = -1;
const EAI_NONAME: i32 = -2;
const EAI_FAMILY: i32 = -6;
const EAI_SOCKTYPE: i32 = -7;
const EAI_SERVICE: i32 = -8;
const EAI_OVERFLOW: i32 = -12;
const AI_PASSIVE: i32 = 1;
const AI_CANONNAME: i32 = 2;
const AI_NUMERICHOST: i32 = 4;
const AI_V4MAPPED: i32 = 8;
const AI_NUMERICSERV: i32 = 1024;
const NI_NUMERICHOST: i32 = 1;
const NI_NAMEREQD: i32 = 8;

/// Define the netdb imports.
pub fn define<T: NetdbHost>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.func_wrap("env", "getaddrinfo", getaddrinfo)?;
    linker.func_wrap("env", "getnameinfo", getnameinfo)?;
    linker.func_wrap("env", "getprotobyname", getprotobyname)?;
    linker.func_wrap(
        "env",
        "gethostbyname",
        |mut c: Caller<'_, T>, name: i32| -> wasmtime::Result<i32> {
            let mem = memory(&c)?;
            let name = read_cstr(mem.data(&c), name as u32);
            host_by_name(&mut c, &name)
        },
    )?;
    linker.func_wrap(
        "env",
        "gethostbyaddr",
        |mut c: Caller<'_, T>, addr: i32, _len: i32, ty: i32| -> wasmtime::Result<i32> {
            if ty != AF_INET {
                return Ok(0);
            }
            let mem = memory(&c)?;
            let mut raw = [0u8; 4];
            mem.read(&c, addr as u32 as usize, &mut raw)?;
            let host = Ipv4Addr::from(raw).to_string();
            let host = c
                .data_mut()
                .dns()
                .lookup_addr(&host)
                .map(str::to_string)
                .unwrap_or(host);
            host_by_name(&mut c, &host)
        },
    )?;
    linker.func_wrap(
        "env",
        "_emscripten_lookup_name",
        |mut c: Caller<'_, T>, name: i32| -> wasmtime::Result<i32> {
            let mem = memory(&c)?;
            let name = read_cstr(mem.data(&c), name as u32);
            let addr = c.data_mut().dns().lookup_name(&name);
            Ok(addr
                .parse::<Ipv4Addr>()
                .map(|a| u32::from_le_bytes(a.octets()) as i32)
                .unwrap_or(0))
        },
    )?;
    Ok(())
}

fn getaddrinfo<T: NetdbHost>(
    mut c: Caller<'_, T>,
    node: i32,
    service: i32,
    hint: i32,
    out: i32,
) -> wasmtime::Result<i32> {
    let mem = memory(&c)?;
    let (mut flags, mut family, mut socktype, mut proto) = (0, 0, 0, 0);
    let (node_s, service_s) = {
        let bytes = mem.data(&c);
        if hint != 0 {
            let h = hint as u32;
            flags = guest::read_i32(bytes, h).unwrap_or(0);
            family = guest::read_i32(bytes, h + 4).unwrap_or(0);
            socktype = guest::read_i32(bytes, h + 8).unwrap_or(0);
            proto = guest::read_i32(bytes, h + 12).unwrap_or(0);
        }
        let n = (node != 0).then(|| read_cstr(bytes, node as u32));
        let s = (service != 0).then(|| read_cstr(bytes, service as u32));
        (n, s)
    };
    if socktype != 0 && proto == 0 {
        proto = if socktype == 2 { 17 } else { 6 };
    }
    if socktype == 0 && proto != 0 {
        socktype = if proto == 17 { 2 } else { 1 };
    }
    if proto == 0 {
        proto = 6;
    }
    if socktype == 0 {
        socktype = 1;
    }
    if node_s.is_none() && service_s.is_none() {
        return Ok(EAI_NONAME);
    }
    if flags & !(1 | 2 | 4 | 1024 | 8 | 16 | 32) != 0 {
        return Ok(EAI_BADFLAGS);
    }
    if hint != 0 && flags & AI_CANONNAME != 0 && node_s.is_none() {
        return Ok(EAI_BADFLAGS);
    }
    if flags & 32 != 0 {
        return Ok(EAI_NONAME);
    }
    if socktype != 1 && socktype != 2 {
        return Ok(EAI_SOCKTYPE);
    }
    if family != 0 && family != AF_INET && family != AF_INET6 {
        return Ok(EAI_FAMILY);
    }
    let mut port = 0u16;
    if let Some(s) = &service_s {
        match parse_leading_int(s) {
            Some(p) => port = p as u16,
            None if flags & AI_NUMERICSERV != 0 => return Ok(EAI_NONAME),
            None => return Ok(EAI_SERVICE),
        }
    }
    let Some(node_s) = node_s else {
        if family == 0 {
            family = AF_INET;
        }
        let addr = if flags & AI_PASSIVE != 0 {
            if family == AF_INET {
                Addr::V4(Ipv4Addr::UNSPECIFIED)
            } else {
                Addr::V6(Ipv6Addr::UNSPECIFIED)
            }
        } else if family == AF_INET {
            Addr::V4(Ipv4Addr::LOCALHOST)
        } else {
            Addr::V6(Ipv6Addr::LOCALHOST)
        };
        return write_result(&mut c, out, addr, socktype, proto, 0, port);
    };
    let mut addr = None;
    if let Ok(v4) = node_s.parse::<Ipv4Addr>() {
        if family == 0 || family == AF_INET {
            addr = Some(Addr::V4(v4));
        } else if family == AF_INET6 && flags & AI_V4MAPPED != 0 {
            addr = Some(Addr::V6(v4.to_ipv6_mapped()));
        } else {
            return Ok(EAI_NONAME);
        }
    } else if let Ok(v6) = node_s.parse::<Ipv6Addr>() {
        if family == 0 || family == AF_INET6 {
            addr = Some(Addr::V6(v6));
        } else {
            return Ok(EAI_NONAME);
        }
    }
    if let Some(addr) = addr {
        let canon = alloc_cstr(&mut c, &node_s)?;
        return write_result(&mut c, out, addr, socktype, proto, canon, port);
    }
    if flags & AI_NUMERICHOST != 0 {
        return Ok(EAI_NONAME);
    }
    let fake: Ipv4Addr = c
        .data_mut()
        .dns()
        .lookup_name(&node_s)
        .parse()
        .unwrap_or(Ipv4Addr::UNSPECIFIED);
    let addr = if family == AF_INET6 {
        Addr::V6(fake.to_ipv6_mapped())
    } else {
        Addr::V4(fake)
    };
    write_result(&mut c, out, addr, socktype, proto, 0, port)
}

/// JS `parseInt(s, 10)`: leading whitespace, sign, digits.
fn parse_leading_int(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let n: String = digits.chars().take_while(char::is_ascii_digit).collect();
    let v: i64 = n.parse().ok()?;
    Some(if neg { -v } else { v })
}

enum Addr {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

/// Allocate one `struct addrinfo` with its `sockaddr` and store it at `*out`.
fn write_result<T: NetdbHost>(
    c: &mut Caller<'_, T>,
    out: i32,
    addr: Addr,
    socktype: i32,
    proto: i32,
    canon: u32,
    port: u16,
) -> wasmtime::Result<i32> {
    let (family, sa_bytes) = sockaddr(&addr, port);
    let sa = malloc(c, sa_bytes.len() as u32)?;
    let ai = malloc(c, 32)?;
    let mem = memory(c)?;
    let mut info = [0u8; 32];
    let put = |buf: &mut [u8], at: usize, v: u32| buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put(&mut info, 4, family as u32);
    put(&mut info, 8, socktype as u32);
    put(&mut info, 12, proto as u32);
    put(&mut info, 16, sa_bytes.len() as u32);
    put(&mut info, 20, sa);
    put(&mut info, 24, canon);
    mem.write(&mut *c, sa as usize, &sa_bytes)?;
    mem.write(&mut *c, ai as usize, &info)?;
    mem.write(&mut *c, out as u32 as usize, &ai.to_le_bytes())?;
    Ok(0)
}

/// `sockaddr_in` (16 bytes) or `sockaddr_in6` (28 bytes).
fn sockaddr(addr: &Addr, port: u16) -> (i32, Vec<u8>) {
    match addr {
        Addr::V4(a) => {
            let mut b = vec![0u8; 16];
            b[0..2].copy_from_slice(&(AF_INET as u16).to_le_bytes());
            b[2..4].copy_from_slice(&port.to_be_bytes());
            b[4..8].copy_from_slice(&a.octets());
            (AF_INET, b)
        }
        Addr::V6(a) => {
            let mut b = vec![0u8; 28];
            b[0..2].copy_from_slice(&(AF_INET6 as u16).to_le_bytes());
            b[2..4].copy_from_slice(&port.to_be_bytes());
            b[8..24].copy_from_slice(&a.octets());
            (AF_INET6, b)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn getnameinfo<T: NetdbHost>(
    mut c: Caller<'_, T>,
    sa: i32,
    salen: i32,
    node: i32,
    nodelen: i32,
    serv: i32,
    servlen: i32,
    flags: i32,
) -> wasmtime::Result<i32> {
    let mem = memory(&c)?;
    let (addr, port) = {
        let b = mem.data(&c);
        let at = sa as u32 as usize;
        let Some(head) = b.get(at..at + 4) else {
            return Ok(EAI_FAMILY);
        };
        let family = i32::from(u16::from_le_bytes([head[0], head[1]]));
        let port = u16::from_be_bytes([head[2], head[3]]);
        match (family, salen) {
            (AF_INET, 16) => {
                let o: [u8; 4] = b[at + 4..at + 8].try_into().unwrap();
                (Ipv4Addr::from(o).to_string(), port)
            }
            (AF_INET6, 28) => {
                let o: [u8; 16] = b[at + 8..at + 24].try_into().unwrap();
                (Ipv6Addr::from(o).to_string(), port)
            }
            _ => return Ok(EAI_FAMILY),
        }
    };
    let mut overflowed = false;
    if node != 0 && nodelen > 0 {
        let looked = if flags & NI_NUMERICHOST != 0 {
            None
        } else {
            c.data_mut().dns().lookup_addr(&addr).map(str::to_string)
        };
        if looked.is_none() && flags & NI_NAMEREQD != 0 {
            return Ok(EAI_NONAME);
        }
        let text = looked.unwrap_or(addr);
        overflowed |= write_truncated(&mut c, node as u32, nodelen as u32, &text)?;
    }
    if serv != 0 && servlen > 0 {
        overflowed |= write_truncated(&mut c, serv as u32, servlen as u32, &port.to_string())?;
    }
    Ok(if overflowed { EAI_OVERFLOW } else { 0 })
}

/// Write `text` NUL-terminated into a buffer of `len` bytes; true if it
/// did not fit with room to spare (as the glue reports overflow).
fn write_truncated<T: NetdbHost>(
    c: &mut Caller<'_, T>,
    ptr: u32,
    len: u32,
    text: &str,
) -> wasmtime::Result<bool> {
    let mem = memory(c)?;
    let written = guest::write_cstr_trunc(mem.data_mut(&mut *c), ptr, text.as_bytes(), len)
        .map_err(|e| wasmtime::format_err!("writing a name at {ptr:#x}: {e:?}"))?;
    Ok(written as usize + 1 >= len as usize)
}

/// A fresh `struct hostent` for `name` (older releases' `gethostbyname`):
/// the name, no aliases, one AF_INET address from the fake DNS.
fn host_by_name<T: NetdbHost>(c: &mut Caller<'_, T>, name: &str) -> wasmtime::Result<i32> {
    let addr = c.data_mut().dns().lookup_name(name);
    let ip: Ipv4Addr = addr.parse().unwrap_or(Ipv4Addr::UNSPECIFIED);
    let ent = malloc(&mut *c, 20)?;
    let name_p = alloc_cstr(&mut *c, name)?;
    let aliases = malloc(&mut *c, 4)?;
    let list = malloc(&mut *c, 12)?;
    if ent == 0 || name_p == 0 || aliases == 0 || list == 0 {
        return Ok(0);
    }
    let mem = memory(&*c)?;
    let mut e = name_p.to_le_bytes().to_vec();
    e.extend_from_slice(&aliases.to_le_bytes());
    e.extend_from_slice(&(AF_INET as u32).to_le_bytes());
    e.extend_from_slice(&4u32.to_le_bytes());
    e.extend_from_slice(&list.to_le_bytes());
    mem.write(&mut *c, ent as usize, &e)?;
    mem.write(&mut *c, aliases as usize, &0u32.to_le_bytes())?;
    let mut l = (list + 8).to_le_bytes().to_vec();
    l.extend_from_slice(&0u32.to_le_bytes());
    l.extend_from_slice(&ip.octets());
    mem.write(&mut *c, list as usize, &l)?;
    Ok(ent as i32)
}

fn getprotobyname<T: NetdbHost>(mut c: Caller<'_, T>, name: i32) -> wasmtime::Result<i32> {
    let mem = memory(&c)?;
    let name = read_cstr(mem.data(&c), name as u32);
    if c.data_mut().dns().protocols.is_none() {
        let mut map = HashMap::new();
        for (pname, num, alias) in [("tcp", 6u32, "TCP"), ("udp", 17, "UDP")] {
            let name_p = alloc_cstr(&mut c, pname)?;
            let alias_p = alloc_cstr(&mut c, alias)?;
            let list = malloc(&mut c, 8)?;
            let ent = malloc(&mut c, 12)?;
            let mem = memory(&c)?;
            let mut l = alias_p.to_le_bytes().to_vec();
            l.extend_from_slice(&0u32.to_le_bytes());
            mem.write(&mut c, list as usize, &l)?;
            let mut e = name_p.to_le_bytes().to_vec();
            e.extend_from_slice(&list.to_le_bytes());
            e.extend_from_slice(&num.to_le_bytes());
            mem.write(&mut c, ent as usize, &e)?;
            map.insert(pname.to_string(), ent);
            map.insert(num.to_string(), ent);
        }
        c.data_mut().dns().protocols = Some(map);
    }
    Ok(c.data_mut()
        .dns()
        .protocols
        .as_ref()
        .and_then(|m| m.get(&name))
        .copied()
        .unwrap_or(0) as i32)
}
