/*
 * The first payloads of every TCP conversation of a capture file, in one pass over the file.
 *
 * nfstream (with nDPI) gives the flows, their labels and their server names; what the flows
 * said first is read here, so that nfstream can run without a Python plugin (which makes it
 * build a Python object for every packet). A conversation is what nfstream calls a flow:
 * the packets of one canonical (addresses, ports, VLAN) tuple until nfstream's idle or active
 * timeout separates two of them (it does not split on a new SYN, so neither does this pass).
 * Its "source" is the side that sent its first packet, as in nfstream.
 *
 * Per conversation: first and last packet time [ms] (as nfstream counts them: microseconds
 * truncated to milliseconds, never before the latest time seen so far), which side sent the
 * first SYN without ACK (or none), and the first PAYLOAD_BYTES bytes of the first
 * PAYLOAD_PACKETS payload-carrying packets of each side, concatenated in capture order,
 * taken as MineWatch's nfstream plugin takes them (the TCP payload as far as it was captured),
 * so that both paths give the same verdicts.
 *
 * Files: classic pcap (microsecond and nanosecond magic, either byte order) and pcapng (a
 * section of either byte order, any number of interfaces each with its link type, if_tsresol
 * and if_tsoffset; enhanced, simple and obsolete packet blocks; other blocks skipped). Links:
 * Ethernet (802.1Q / QinQ tags, MPLS, PPPoE), raw IP (101, 12, 14, 228, 229), Linux cooked
 * (113, 276), BSD loopback (0, 108). IPv4 (fragments beyond the first skipped, IP-in-IP followed)
 * and IPv6 (hop-by-hop, routing, fragment, destination-options headers skipped).
 *
 * The file is mapped, not read into memory; what is kept is bounded by the conversations
 * times 2 x PAYLOAD_BYTES.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAYLOAD_BYTES 4096
#define PAYLOAD_PACKETS 8
#define MAX_CAPLEN 262144u         /* libpcap's bound on a packet's captured length */
#define MAX_BLOCK (16u << 20)      /* a pcapng block longer than this is corrupt */
#define MAX_INTERFACES 256
#define MIN_FRAME 28               /* nfstream ignores shorter frames (IP + UDP headers) */

/* One conversation, as handed to Python (keep in step with _capture.py). */
typedef struct mw_conversation {
    uint8_t src[16];    /* the side that sent the first packet (IPv4 in the first 4 bytes) */
    uint8_t dst[16];
    int64_t first_ms;
    int64_t last_ms;
    uint8_t *payload[2]; /* what the source (0) and the destination (1) sent first */
    uint32_t kept[2];    /* bytes in payload[side] */
    uint32_t packets[2]; /* payload-carrying packets counted, per side (at most 8) */
    uint32_t first[2];   /* payload bytes of each side's first payload-carrying packet */
    uint16_t src_port;
    uint16_t dst_port;
    uint16_t vlan_id;
    uint8_t ip_version;
    int8_t syn_from; /* 0: the source sent the first SYN, 1: the destination, -1: none */
} mw_conversation;

typedef struct mw_scan {
    mw_conversation *items; /* every conversation, in the order of their first packets */
    int64_t count;
    int64_t capacity;
    int64_t *table; /* open addressing: index into items of the open conversation, or -1 */
    int64_t table_size;
    int64_t truncated_at;  /* byte offset of a cut-off last packet, or -1 */
    int64_t truncated_packet;
    uint32_t links[16];    /* the interfaces' link types */
    int n_links;
} mw_scan;

typedef struct interface {
    uint32_t link;
    uint64_t resolution; /* ticks per second */
    int64_t offset_s;
} interface;

typedef struct packet_key {
    uint8_t a[16], b[16];
    uint16_t port_a, port_b, vlan;
    uint8_t version;
} packet_key;

/* ---------------------------------------------------------------- byte order helpers */

static inline uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p, int swap) {
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}
static inline uint16_t rd16(const uint8_t *p, int swap) {
    uint16_t v;
    memcpy(&v, p, 2);
    return swap ? __builtin_bswap16(v) : v;
}

/* ---------------------------------------------------------------- the conversations */

static uint64_t hash_key(const packet_key *k) {
    uint64_t h = 1469598103934665603ull;
    const uint8_t *bytes = (const uint8_t *)k;
    for (size_t i = 0; i < sizeof *k; i++) h = (h ^ bytes[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static int same_key(const mw_conversation *c, const packet_key *k) {
    if (c->ip_version != k->version || c->vlan_id != k->vlan) return 0;
    /* The conversation's ends may be either way round. */
    if (c->src_port == k->port_a && c->dst_port == k->port_b && !memcmp(c->src, k->a, 16) &&
        !memcmp(c->dst, k->b, 16))
        return 1;
    return c->src_port == k->port_b && c->dst_port == k->port_a && !memcmp(c->src, k->b, 16) &&
           !memcmp(c->dst, k->a, 16);
}

static int grow_table(mw_scan *scan) {
    int64_t size = scan->table_size ? scan->table_size * 2 : 1 << 14;
    int64_t *table = malloc((size_t)size * sizeof *table);
    if (!table) return -1;
    memset(table, 0xff, (size_t)size * sizeof *table);
    /* Only the open conversation of each key is in the table: the latest of that key. */
    for (int64_t i = 0; i < scan->count; i++) {
        const mw_conversation *c = &scan->items[i];
        packet_key k;
        memset(&k, 0, sizeof k);
        int forward = memcmp(c->src, c->dst, 16) < 0 ||
                      (!memcmp(c->src, c->dst, 16) && c->src_port <= c->dst_port);
        memcpy(k.a, forward ? c->src : c->dst, 16);
        memcpy(k.b, forward ? c->dst : c->src, 16);
        k.port_a = forward ? c->src_port : c->dst_port;
        k.port_b = forward ? c->dst_port : c->src_port;
        k.vlan = c->vlan_id;
        k.version = c->ip_version;
        uint64_t slot = hash_key(&k) & (uint64_t)(size - 1);
        while (table[slot] >= 0) {
            if (same_key(&scan->items[table[slot]], &k)) break;
            slot = (slot + 1) & (uint64_t)(size - 1);
        }
        table[slot] = i; /* later conversations of a key replace earlier ones */
    }
    free(scan->table);
    scan->table = table;
    scan->table_size = size;
    return 0;
}

static mw_conversation *new_conversation(mw_scan *scan, int64_t *slot_index, const uint8_t *src,
                                         const uint8_t *dst, uint16_t sport, uint16_t dport,
                                         const packet_key *k, int64_t time_ms) {
    if (scan->count == scan->capacity) {
        int64_t capacity = scan->capacity ? scan->capacity * 2 : 4096;
        mw_conversation *items = realloc(scan->items, (size_t)capacity * sizeof *items);
        if (!items) return NULL;
        scan->items = items;
        scan->capacity = capacity;
    }
    mw_conversation *c = &scan->items[scan->count];
    memset(c, 0, sizeof *c);
    memcpy(c->src, src, 16);
    memcpy(c->dst, dst, 16);
    c->src_port = sport;
    c->dst_port = dport;
    c->vlan_id = k->vlan;
    c->ip_version = k->version;
    c->first_ms = c->last_ms = time_ms;
    c->syn_from = -1;
    *slot_index = scan->count++;
    return c;
}

/* The open conversation of this packet's tuple (a new one after a timeout), or NULL when
   out of memory. `side` is 0 when the packet comes from the conversation's source. */
static mw_conversation *conversation_of(mw_scan *scan, const uint8_t *src, const uint8_t *dst,
                                        uint16_t sport, uint16_t dport, uint16_t vlan,
                                        uint8_t version, int64_t time_ms, int64_t idle_ms,
                                        int64_t active_ms, int *side) {
    packet_key k;
    memset(&k, 0, sizeof k);
    int forward = memcmp(src, dst, 16) < 0 || (!memcmp(src, dst, 16) && sport <= dport);
    memcpy(k.a, forward ? src : dst, 16);
    memcpy(k.b, forward ? dst : src, 16);
    k.port_a = forward ? sport : dport;
    k.port_b = forward ? dport : sport;
    k.vlan = vlan;
    k.version = version;
    if ((scan->count + 1) * 2 > scan->table_size && grow_table(scan)) return NULL;
    uint64_t mask = (uint64_t)scan->table_size - 1;
    uint64_t slot = hash_key(&k) & mask;
    while (scan->table[slot] >= 0) {
        mw_conversation *c = &scan->items[scan->table[slot]];
        if (same_key(c, &k)) {
            if (time_ms - c->last_ms >= idle_ms || time_ms - c->first_ms >= active_ms) {
                /* nfstream's idle or active expiry: this packet opens the next flow. */
                c = new_conversation(scan, &scan->table[slot], src, dst, sport, dport, &k,
                                     time_ms);
                *side = 0;
                return c;
            }
            *side = !(c->src_port == sport && !memcmp(c->src, src, 16));
            return c;
        }
        slot = (slot + 1) & mask;
    }
    *side = 0;
    return new_conversation(scan, &scan->table[slot], src, dst, sport, dport, &k, time_ms);
}

/* ---------------------------------------------------------------- one packet */

/* The room a payload buffer holding `kept` bytes has: 256 bytes, doubled as it fills. */
static inline uint32_t capacity_for(uint32_t kept) {
    uint32_t room = 256;
    while (room < kept) room *= 2;
    return room;
}

#define MAX_LINKS 16

typedef struct pass {
    mw_scan *scan;
    int64_t tick_ms; /* the latest packet time so far: nfstream never goes back */
    int64_t idle_ms, active_ms;
    FILE *out;       /* where the frames are written again as Ethernet (or NULL) */
    int links_only;  /* only list the link types (no packet is read) */
    uint32_t links[MAX_LINKS];
    int n_links;
} pass;

static void note_link(pass *run, uint32_t link) {
    for (int i = 0; i < run->n_links; i++)
        if (run->links[i] == link) return;
    if (run->n_links < MAX_LINKS) run->links[run->n_links++] = link;
}

/* The IP packet at `ip` (`len` captured bytes): its TCP payload into its conversation.
   Returns 0, or -1 when out of memory. */
static int take_ip(pass *run, const uint8_t *ip, uint32_t len, uint16_t vlan, int64_t time_ms,
                   int depth) {
    if (len < 20 || depth > 4) return 0;
    uint8_t version = ip[0] >> 4, protocol;
    uint8_t src[16] = {0}, dst[16] = {0};
    uint32_t l4_offset, l4_len;
    if (version == 4) {
        uint32_t ihl = (uint32_t)(ip[0] & 15) * 4, total = be16(ip + 2);
        if (ihl < 20 || ihl > len) return 0;
        protocol = ip[9];
        if (protocol == 4 || protocol == 41) /* IP in IP: the inner packet, as nfstream */
            return take_ip(run, ip + ihl, len - ihl, vlan, time_ms, depth + 1);
        if (be16(ip + 6) & 0x1fff) return 0; /* a later fragment: no TCP header */
        if (total < ihl) return 0;
        memcpy(src, ip + 12, 4);
        memcpy(dst, ip + 16, 4);
        l4_offset = ihl;
        l4_len = total - ihl;
    } else if (version == 6) {
        if (len < 40) return 0;
        uint32_t plen = be16(ip + 4);
        if (len < 40 + plen) return 0; /* nfstream skips a cut IPv6 packet */
        protocol = ip[6];
        l4_offset = 40;
        l4_len = plen;
        for (;;) {
            if (protocol == 0 || protocol == 43 || protocol == 60 || protocol == 135) {
                if (l4_len < 8) return 0;
                uint32_t size = ((uint32_t)ip[l4_offset + 1] + 1) * 8;
                if (size > l4_len) return 0;
                protocol = ip[l4_offset];
                l4_offset += size;
                l4_len -= size;
            } else if (protocol == 44) {
                if (l4_len < 8) return 0;
                if (be16(ip + l4_offset + 2) & 0xfff8) return 0; /* a later fragment */
                protocol = ip[l4_offset];
                l4_offset += 8;
                l4_len -= 8;
            } else {
                break;
            }
        }
        if (protocol == 4 || protocol == 41)
            return take_ip(run, ip + l4_offset, len - l4_offset, vlan, time_ms, depth + 1);
        memcpy(src, ip + 8, 16);
        memcpy(dst, ip + 24, 16);
    } else {
        return 0;
    }
    /* nfstream's clock: a packet never goes back in time. */
    if (time_ms > run->tick_ms) run->tick_ms = time_ms;
    time_ms = run->tick_ms;
    if (protocol != 6 || l4_len < 20 || l4_offset + 20 > len) return 0;
    const uint8_t *tcp = ip + l4_offset;
    uint16_t sport = be16(tcp), dport = be16(tcp + 2);
    uint32_t header = (uint32_t)(tcp[12] >> 4) * 4;
    uint32_t payload = l4_len > header ? l4_len - header : 0;
    uint8_t flags = tcp[13];
    int side;
    mw_conversation *c = conversation_of(run->scan, src, dst, sport, dport, vlan, version,
                                         time_ms, run->idle_ms, run->active_ms, &side);
    if (!c) return -1;
    c->last_ms = time_ms;
    if ((flags & 0x12) == 0x02 && c->syn_from < 0) c->syn_from = (int8_t)side;
    if (payload == 0 || c->packets[side] >= PAYLOAD_PACKETS) return 0;
    if (c->packets[side]++ == 0) c->first[side] = payload;
    if (c->kept[side] >= PAYLOAD_BYTES) return 0;
    /* The payload as far as it was captured (a snap length may cut it; Ethernet padding after
       the IP packet is not payload). */
    uint32_t start = l4_offset + header;
    uint32_t take = start < len ? len - start : 0;
    if (take > payload) take = payload;
    if (take == 0) return 0;
    const uint8_t *from = ip + start;
    if (take > PAYLOAD_BYTES - c->kept[side]) take = PAYLOAD_BYTES - c->kept[side];
    uint32_t need = c->kept[side] + take, room = capacity_for(c->kept[side]);
    if (!c->payload[side] || need > room) {
        uint8_t *grown = realloc(c->payload[side], capacity_for(need));
        if (!grown) return -1;
        c->payload[side] = grown;
    }
    memcpy(c->payload[side] + c->kept[side], from, take);
    c->kept[side] += take;
    return 0;
}

/* Where the IP packet of a frame of link type `link` starts (and its innermost VLAN), or 0
   when it carries none that nfstream would read. */
static int find_ip(uint32_t link, const uint8_t *frame, uint32_t caplen, uint32_t *at,
                   uint16_t *vlan_id) {
    uint32_t offset;
    uint16_t type = 0, vlan = 0;
    if (caplen < MIN_FRAME) return 0;
    switch (link) {
    case 1: /* Ethernet */
        offset = 14;
        type = be16(frame + 12);
        for (;;) {
            if (type == 0x8100 || type == 0x88a8 || type == 0x9100) {
                if (offset + 4 > caplen) return 0;
                vlan = be16(frame + offset) & 0xfff;
                type = be16(frame + offset + 2);
                offset += 4;
            } else if (type == 0x8847 || type == 0x8848) {
                for (;;) {
                    if (offset + 4 > caplen) return 0;
                    int bottom = frame[offset + 2] & 1;
                    offset += 4;
                    if (bottom) break;
                }
                type = 0x0800;
            } else if (type == 0x8864) { /* PPPoE session: its header and PPP's protocol */
                if (offset + 8 > caplen) return 0;
                offset += 8;
                type = 0x0800; /* as nfstream: the IP version is read from the packet */
            } else {
                break;
            }
        }
        if (type != 0x0800 && type != 0x86dd) return 0;
        break;
    case 0:   /* BSD loopback: the address family in the capturing host's byte order */
    case 108: /* OpenBSD loopback: in network byte order */
        offset = 4;
        break;
    case 12: case 14: case 101: case 228: case 229: /* raw IP */
        offset = 0;
        break;
    case 113: /* Linux cooked v1 */
        offset = 16;
        type = be16(frame + 14);
        if (type != 0x0800 && type != 0x86dd) return 0;
        break;
    case 276: /* Linux cooked v2 */
        offset = 20;
        type = be16(frame);
        if (type != 0x0800 && type != 0x86dd) return 0;
        break;
    default:
        return 0;
    }
    if (offset >= caplen) return 0;
    *at = offset;
    *vlan_id = vlan;
    return 1;
}

/* One packet: listed, written again, and its TCP payload taken. `us` is its time as
   libpcap gives it [us]. Returns 0, or -1 when out of memory or the copy fails. */
static int take_packet(pass *run, uint32_t link, const uint8_t *frame, uint32_t caplen,
                       uint32_t length, int64_t us) {
    uint32_t offset;
    uint16_t vlan;
    if (!find_ip(link, frame, caplen, &offset, &vlan)) return 0;
    if (run->out) {
        /* Ethernet as it was; any other link as Ethernet around its IP packet. */
        static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
        uint32_t head = link == 1 ? 0 : 14, skip = link == 1 ? 0 : offset;
        uint32_t record[4] = {(uint32_t)(us / 1000000), (uint32_t)(us % 1000000),
                              caplen - skip + head, (length > skip ? length - skip : 0) + head};
        uint8_t ether[14];
        memcpy(ether, macs, 12);
        ether[12] = (frame[offset] >> 4) == 6 ? 0x86 : 0x08;
        ether[13] = (frame[offset] >> 4) == 6 ? 0xdd : 0x00;
        if (fwrite(record, sizeof record, 1, run->out) != 1 ||
            (head && fwrite(ether, head, 1, run->out) != 1) ||
            fwrite(frame + skip, caplen - skip, 1, run->out) != 1)
            return -1;
    }
    return take_ip(run, frame + offset, caplen - offset, vlan, us / 1000, 0);
}

/* ---------------------------------------------------------------- the files */

static int fail(char *error, size_t size, const char *text, int64_t offset, int64_t packet) {
    if (packet >= 0)
        snprintf(error, size, "%s at byte offset %lld (packet %lld)", text, (long long)offset,
                 (long long)packet);
    else
        snprintf(error, size, "%s at byte offset %lld", text, (long long)offset);
    return 1;
}

/* A pcapng time stamp as libpcap gives it: whole microseconds (truncated) [us]; nfstream
   then takes whole milliseconds of them. */
static int64_t us_of(uint64_t ticks, uint64_t resolution, int64_t offset_s) {
    uint64_t seconds = ticks / resolution, fraction = ticks % resolution;
    unsigned __int128 micros = (unsigned __int128)fraction * 1000000u / resolution;
    return ((int64_t)seconds + offset_s) * 1000000 + (int64_t)micros;
}

static int read_pcap(pass *run, const uint8_t *data, uint64_t size, char *error, size_t esize) {
    uint32_t magic;
    memcpy(&magic, data, 4);
    int swap = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
    uint64_t resolution = (magic == 0xa1b23c4du || magic == 0x4d3cb2a1u) ? 1000000000u : 1000000u;
    if (size < 24) return fail(error, esize, "truncated pcap file header", (int64_t)size, -1);
    uint32_t snaplen = rd32(data + 16, swap), link = rd32(data + 20, swap) & 0x03ffffff;
    if (snaplen == 0 || snaplen > MAX_CAPLEN) snaplen = MAX_CAPLEN;
    uint64_t at = 24;
    int64_t number = 0;
    note_link(run, link);
    if (run->links_only) return 0;
    while (at < size) {
        number++;
        if (size - at < 16) {
            run->scan->truncated_at = (int64_t)at;
            run->scan->truncated_packet = number;
            break;
        }
        uint32_t seconds = rd32(data + at, swap), fraction = rd32(data + at + 4, swap);
        uint32_t caplen = rd32(data + at + 8, swap);
        if (caplen > MAX_CAPLEN)
            return fail(error, esize, "impossible captured length (corrupt record header)",
                        (int64_t)at, number);
        if (size - at - 16 < caplen) {
            run->scan->truncated_at = (int64_t)at;
            run->scan->truncated_packet = number;
            break;
        }
        uint32_t length = rd32(data + at + 12, swap);
        int64_t us = (int64_t)seconds * 1000000 + (int64_t)(fraction / (resolution / 1000000));
        if (!run->links_only &&
            take_packet(run, link, data + at + 16, caplen < snaplen ? caplen : snaplen, length, us))
            return fail(error, esize, "out of memory or cannot write", (int64_t)at, number);
        at += 16 + (uint64_t)caplen;
    }
    return 0;
}

static int read_pcapng(pass *run, const uint8_t *data, uint64_t size, char *error, size_t esize) {
    interface interfaces[MAX_INTERFACES];
    int count = 0, swap = 0, section = 0;
    uint64_t at = 0;
    int64_t number = 0;
    while (at < size) {
        if (size - at < 12) {
            if (section) { /* a block cut short in its header: the file's last */
                run->scan->truncated_at = (int64_t)at;
                run->scan->truncated_packet = number + 1;
                break;
            }
            return fail(error, esize, "truncated pcapng block header", (int64_t)at, -1);
        }
        uint32_t type;
        memcpy(&type, data + at, 4);
        if (type == 0x0a0d0d0au) {
            uint32_t order;
            memcpy(&order, data + at + 8, 4);
            if (order == 0x1a2b3c4du) swap = 0;
            else if (order == 0x4d3c2b1au) swap = 1;
            else return fail(error, esize, "bad pcapng byte-order magic", (int64_t)at + 8, -1);
            section = 1;
            count = 0; /* interfaces belong to their section */
        } else if (!section) {
            return fail(error, esize, "not a pcapng section header", (int64_t)at, -1);
        } else {
            type = swap ? __builtin_bswap32(type) : type;
        }
        uint32_t length = rd32(data + at + 4, swap);
        int packet_block = type == 6 || type == 3 || type == 2;
        if (length < 12 || length % 4 || length > MAX_BLOCK)
            return fail(error, esize, "impossible pcapng block length", (int64_t)at,
                        packet_block ? number + 1 : -1);
        if (length > size - at) {
            if (packet_block && length <= MAX_CAPLEN + 64) { /* a cut-off last packet */
                run->scan->truncated_at = (int64_t)at;
                run->scan->truncated_packet = number + 1;
                break;
            }
            return fail(error, esize, "pcapng block length runs past the end of the file",
                        (int64_t)at, packet_block ? number + 1 : -1);
        }
        if (rd32(data + at + length - 4, swap) != length)
            return fail(error, esize, "pcapng block lengths disagree", (int64_t)at,
                        packet_block ? number + 1 : -1);
        const uint8_t *body = data + at + 8;
        uint32_t body_len = length - 12;
        if (type == 1) { /* interface description */
            if (body_len < 8) return fail(error, esize, "short interface block", (int64_t)at, -1);
            if (count == MAX_INTERFACES)
                return fail(error, esize, "too many interfaces", (int64_t)at, -1);
            interface *face = &interfaces[count++];
            face->link = rd16(body, swap);
            note_link(run, face->link);
            face->resolution = 1000000;
            face->offset_s = 0;
            uint32_t o = 8;
            while (o + 4 <= body_len) {
                uint16_t code = rd16(body + o, swap), olen = rd16(body + o + 2, swap);
                if (code == 0 || o + 4 + olen > body_len) break;
                if (code == 9 && olen >= 1) {
                    uint8_t r = body[o + 4];
                    uint64_t base = (r & 0x80) ? 2 : 10, value = 1;
                    for (int i = 0; i < (r & 0x7f) && value < (1ull << 62) / base; i++) value *= base;
                    face->resolution = value;
                } else if (code == 14 && olen >= 8) {
                    uint64_t lo = rd32(body + o + 4 + (swap ? 4 : 0), swap);
                    uint64_t hi = rd32(body + o + 4 + (swap ? 0 : 4), swap);
                    face->offset_s = (int64_t)(hi << 32 | lo);
                }
                o += 4 + ((olen + 3u) & ~3u);
            }
        } else if (packet_block && run->links_only) {
            number++;
        } else if (packet_block) {
            number++;
            uint32_t face = 0, caplen, length_of;
            uint64_t ticks = 0;
            const uint8_t *frame;
            if (type == 6 || type == 2) { /* enhanced, or obsolete with a 16-bit interface */
                if (body_len < 20) return fail(error, esize, "short packet block", (int64_t)at, number);
                face = type == 6 ? rd32(body, swap) : rd16(body, swap);
                ticks = (uint64_t)rd32(body + 4, swap) << 32 | rd32(body + 8, swap);
                caplen = rd32(body + 12, swap);
                length_of = rd32(body + 16, swap);
                frame = body + 20;
                if (caplen > body_len - 20)
                    return fail(error, esize, "captured length beyond its block", (int64_t)at, number);
            } else { /* simple packet block: interface 0, no time */
                if (body_len < 4) return fail(error, esize, "short packet block", (int64_t)at, number);
                uint32_t original = rd32(body, swap);
                caplen = original < body_len - 4 ? original : body_len - 4;
                length_of = original;
                frame = body + 4;
            }
            if (face >= (uint32_t)count)
                return fail(error, esize, "packet of an undeclared interface", (int64_t)at, number);
            int64_t us = us_of(ticks, interfaces[face].resolution, interfaces[face].offset_s);
            if (take_packet(run, interfaces[face].link, frame, caplen, length_of, us))
                return fail(error, esize, "out of memory or cannot write", (int64_t)at, number);
        }
        at += length;
    }
    return 0;
}

/* ---------------------------------------------------------------- the entry points */

/* Reads the capture at `path`. With `links_only`, only lists its link types (see
   mw_capture_links). With `rewrite`, also writes every IP packet again, as a classic pcap of
   Ethernet frames, to that path (for a reader that does not know the file's link types).
   Returns the scan (free it with mw_capture_free), or NULL with the reason in `error`. */
mw_scan *mw_capture_scan(const char *path, int64_t idle_ms, int64_t active_ms, int links_only,
                         const char *rewrite, char *error, size_t esize) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(error, esize, "cannot open the file");
        return NULL;
    }
    struct stat info;
    if (fstat(fd, &info) || info.st_size < 4) {
        close(fd);
        fail(error, esize, "too short for a capture", 0, -1);
        return NULL;
    }
    uint64_t size = (uint64_t)info.st_size;
    const uint8_t *data = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (data == MAP_FAILED) {
        snprintf(error, esize, "cannot map the file");
        return NULL;
    }
    madvise((void *)data, size, MADV_SEQUENTIAL);
    mw_scan *scan = calloc(1, sizeof *scan);
    pass run;
    memset(&run, 0, sizeof run);
    run.scan = scan;
    run.tick_ms = INT64_MIN;
    run.idle_ms = idle_ms;
    run.active_ms = active_ms;
    run.links_only = links_only;
    int failed = 1;
    if (rewrite && rewrite[0]) {
        run.out = fopen(rewrite, "wb");
        static const uint32_t header[6] = {0xa1b2c3d4u, 2u | 4u << 16, 0, 0, MAX_CAPLEN, 1};
        if (!run.out || fwrite(header, sizeof header, 1, run.out) != 1) {
            snprintf(error, esize, "cannot write the rewritten capture %s", rewrite);
            if (run.out) fclose(run.out);
            free(scan);
            munmap((void *)data, size);
            return NULL;
        }
    }
    if (scan) {
        scan->truncated_at = scan->truncated_packet = -1;
        uint32_t magic;
        memcpy(&magic, data, 4);
        if (magic == 0xa1b2c3d4u || magic == 0xd4c3b2a1u || magic == 0xa1b23c4du ||
            magic == 0x4d3cb2a1u)
            failed = read_pcap(&run, data, size, error, esize);
        else if (magic == 0x0a0d0d0au)
            failed = read_pcapng(&run, data, size, error, esize);
        else
            failed = fail(error, esize, "unknown magic number", 0, -1);
        memcpy(scan->links, run.links, sizeof run.links);
        scan->n_links = run.n_links;
    } else {
        snprintf(error, esize, "out of memory");
    }
    if (run.out && fclose(run.out) && !failed)
        failed = fail(error, esize, "cannot write the rewritten capture", 0, -1);
    munmap((void *)data, size);
    if (failed) {
        void mw_capture_free(mw_scan *);
        mw_capture_free(scan);
        return NULL;
    }
    return scan;
}

/* The link types of the file's interfaces (at most 16), into `links`; returns how many. */
int mw_capture_links(const mw_scan *scan, uint32_t *links) {
    memcpy(links, scan->links, (size_t)scan->n_links * sizeof *links);
    return scan->n_links;
}

int64_t mw_capture_count(const mw_scan *scan) { return scan->count; }
const mw_conversation *mw_capture_items(const mw_scan *scan) { return scan->items; }
int64_t mw_capture_truncated_at(const mw_scan *scan) { return scan->truncated_at; }
int64_t mw_capture_truncated_packet(const mw_scan *scan) { return scan->truncated_packet; }
int64_t mw_capture_record_size(void) { return (int64_t)sizeof(mw_conversation); }

void mw_capture_free(mw_scan *scan) {
    if (!scan) return;
    for (int64_t i = 0; i < scan->count; i++) {
        free(scan->items[i].payload[0]);
        free(scan->items[i].payload[1]);
    }
    free(scan->items);
    free(scan->table);
    free(scan);
}
