/**
 * Which addresses a webhook may reach (docs/webhooks.md, "Private networks"). A tenant chooses the URL and reads the
 * first 2 KB of every answer in the delivery log, so without this a webhook is a way into the network Patron runs in:
 * the cloud metadata service, the database, admin consoles on 10.x. Unless WEBHOOK_ALLOW_PRIVATE_NETWORKS is set,
 * loopback, private, link-local, CGNAT, unique-local and other non-public addresses are refused, and the check is
 * made on the address actually connected to (a DNS lookup of our own at connect time), so a name that resolved to a
 * public address when checked and to 127.0.0.1 when connecting (DNS rebinding) cannot slip through.
 */
import dns from 'node:dns';
import net from 'node:net';

const blocked = new net.BlockList();
for (const [addr, bits] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // CGNAT (also Alibaba's metadata address 100.100.100.200)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local: 169.254.169.254 is the metadata service of AWS, GCP, Azure…
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and the broadcast address
] as const) blocked.addSubnet(addr, bits, 'ipv4');
for (const [addr, bits] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b:1::', 48], // local NAT64
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique-local (fd00:ec2::254 is AWS's IPv6 metadata address)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // old site-local
  ['ff00::', 8], // multicast
] as const) blocked.addSubnet(addr, bits, 'ipv6');

/** An IPv4 address carried in an IPv6 one (::ffff:a.b.c.d, ::a.b.c.d, NAT64 64:ff9b::/96), or null. */
function embeddedIpv4(ip: string): string | null {
  const m = /^(?:::ffff:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (m) return m[1]!;
  // The same written in hex (::ffff:7f00:1, 64:ff9b::7f00:1).
  const h = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (!h) return null;
  const hi = parseInt(h[1]!, 16);
  const lo = parseInt(h[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** True when `ip` (a literal address) is not a public one: loopback, private, link-local, CGNAT, unique-local… */
export function isPrivateAddress(ip: string): boolean {
  const bare = ip.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = net.isIP(bare);
  if (family === 4) return blocked.check(bare, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(bare.toLowerCase());
    if (v4 !== null) return blocked.check(v4, 'ipv4');
    return blocked.check(bare, 'ipv6');
  }
  return false;
}

export class PrivateAddressError extends Error {
  readonly code = 'EPRIVATEADDRESS';
  constructor(host: string, address: string) {
    super(`refused: ${host} is ${host === address ? 'a' : `${address}, a`} private or local address (set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow it)`);
    this.name = 'PrivateAddressError';
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s) agents and net.connect: resolves as dns.lookup does and fails when any address of the
 * answer is private, so the socket can only connect to a checked address. (Every address, not just the first: with
 * happy eyeballs the connection may use any of them.)
 */
export function publicOnlyLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, [] as dns.LookupAddress[]);
    const bad = addresses.find((a) => isPrivateAddress(a.address));
    if (bad) return callback(new PrivateAddressError(hostname, bad.address) as NodeJS.ErrnoException, [] as dns.LookupAddress[]);
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), [] as dns.LookupAddress[]);
    callback(null, first.address, first.family);
  });
}
