/*
 * cdc.c — FastCDC content-defined chunking (Xia et al., "FastCDC: a Fast and
 * Efficient Content-Defined Chunking Approach for Data Deduplication",
 * USENIX ATC 2016).
 *
 * Invariants, relied on by every store that already holds chunks:
 *   - a boundary depends only on the bytes, the parameters and GEAR[]; the
 *     table and the masks below are constants and must never change (a change
 *     would cut every file differently and defeat deduplication against all
 *     earlier backups).  A new table needs a new enrp_cdc_gear_id();
 *   - every chunk is min_size..max_size bytes long, except the last chunk of a
 *     stream, which may be shorter;
 *   - enrp_cdc_next() reads only BUF[0 .. min(N, max_size)).
 *
 * Design.
 *
 * Gear hash.  fp = (fp << 1) + GEAR[byte] per byte: one shift, one add and
 * one table load (a single LEA on x86), against Rabin's table lookups and
 * XORs of an outgoing byte.  Because each step shifts the old bytes one bit
 * further up, a byte stops influencing fp after 64 steps, so bit b of fp is a
 * function of the last b + 1 bytes only: the hash is a rolling hash over a
 * 64-byte window without ever subtracting the byte that leaves it.
 *
 * Masks.  A position is a cut point when (fp & mask) == 0.  The mask bits are
 * spread evenly over bits 63..16, as the paper does with its zero-padded
 * masks, so every tested bit depends on at least 17 bytes and most on
 * several dozen; the low bits, which depend on the last few bytes only, would
 * make cut points cluster on short repeated patterns.  SPREAD[m] is the mask
 * with m bits, bit 63 - floor(i * 48 / m) for i in 0..m-1 (test_cdc checks
 * the constants against this formula).
 *
 * Normalized chunking.  With avg = 2^k, positions shorter than avg use
 * MaskS (k + 2 bits, a cut with probability 2^-(k+2)) and positions from avg
 * on use MaskL (k - 2 bits, 2^-(k-2)).  Cuts before avg are rare and cuts
 * after it frequent, so sizes bunch around avg instead of following the
 * long-tailed geometric distribution of a single mask; with min = avg / 4 and
 * max = 8 avg the mean comes out near 1.15 avg (1.145 on random data).
 *
 * Cut-point skipping.  No cut may fall before min_size, so the bytes before it
 * are not tested at all.  They are not all skipped, though: hashing starts 63
 * bytes before the first candidate (a "warm-up"; validate() demands
 * min_size >= 64 for it), so every tested fp covers a full 64-byte window:
 * whether a position is a cut point depends only on the 64 bytes ending there
 * and on which mask applies (its distance from the chunk start), never on how
 * many bytes of the chunk happened to be hashed before it.  After an edit the
 * cuts therefore fall back onto the old ones at the first old cut point that
 * the new chunking reaches under the same mask, typically the end of the
 * chunk holding the edit (test_cdc measures this).  It also makes a run of one
 * byte value hash to a constant: for zeros, -GEAR[0], which has a bit in
 * every mask (test_cdc checks), so zeros are cut at max_size rather than at
 * min_size.
 *
 * Length convention.  A cut "after byte i" gives a chunk of length i + 1; the
 * first candidate length is min_size, the last max_size (or N at EOF).
 *
 * Gear table.  GEAR[i] is the (i+1)-th output of SplitMix64 (Steele, Lea and
 * Flood, OOPSLA 2014; the finaliser of java.util.SplittableRandom) seeded with
 * 0x656e727067656172, the ASCII bytes "enrpgear":
 *     state += 0x9e3779b97f4a7c15;
 *     z = state;
 *     z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
 *     z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
 *     out = z ^ (z >> 31);
 * It is pasted as constants rather than computed at first use so there is no
 * initialisation to race on and no way for it to differ between builds;
 * test_cdc regenerates it from the recipe and compares.
 */
#define ENRP_INTERNAL 1 /* defines enrp_cdc_gear_table() declared in cdc.h */

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <enrp/cdc.h>

/* Bytes in the gear hash window: fp is 64 bits and shifts one bit per byte. */
#define WINDOW 64
#define MAX_LIMIT (64u << 20)
/* Largest mask bit count: MaskS of avg = 2^25.  The smallest is 5, MaskL of
 * avg = 2^7; validate() keeps avg within 2^7..2^25. */
#define MASK_BITS_MAX 27

static const uint64_t GEAR[256] = {
	0xaacfa486e245613aull, 0x44be58eb5d2d246cull, 0xcbce8e9d4eae401cull, 0xf36c1deb6a0a80bcull,
	0xa630ad067b002516ull, 0x057d1ad6a4bd7fcbull, 0xf52bdee01abc64b7ull, 0xa387b0519eac0865ull,
	0x9fdeec9ac536700aull, 0xa11abac0568dc75full, 0xbecee1dde4dd82a2ull, 0x62fc8cd707ad5e98ull,
	0x4e0bf5ee21d33126ull, 0x081c9bd6ac90ac70ull, 0x836d585fb0a92946ull, 0xaed43f7c04bca69aull,
	0xcd9581a213f0126aull, 0x33298c24ef77a56dull, 0x7ab3f3ffb971d52dull, 0x5465f1c3722d272bull,
	0x53df494606978052ull, 0x29d9d8bb31950660ull, 0xd1a57ca8c95fab40ull, 0x9494832d5c0d193cull,
	0xfa7107bce7431835ull, 0x60749a10e6bc8c16ull, 0x1b62cca5578e354full, 0xaabd48a943942189ull,
	0x0984b27b238a5870ull, 0x34bd5db299dd1e2dull, 0x3b415042fda133f4ull, 0xad9ddd8edcd95cf9ull,
	0xab76436be47a36a3ull, 0xd4642c6e8296d339ull, 0x701ffc1a0312f851ull, 0xb677ae995d55731full,
	0xe8aa0649c0acb9deull, 0x893e63c8dd01bb64ull, 0x387c7b2346fb42ecull, 0xa2990ab5fc6d1600ull,
	0x686a8a1905d0a571ull, 0xb0cd5dd7835d5ad4ull, 0xcbb0471e055e49f4ull, 0xdcdaff0f8c163d68ull,
	0xf86c63e6354d3a4cull, 0x0b4839c42086443aull, 0x6de3a37dbbd19fd0ull, 0x6cb4072f86d64ea8ull,
	0x0ad46f42b7fc50f4ull, 0xda7ef72dbfb418c1ull, 0x21e3b99cb599f6e4ull, 0x98113fe4c772929bull,
	0x81688869c9445832ull, 0xa3fbfd984e8fd6ecull, 0x73bcfa935fb1e3a5ull, 0x73567b4fa1e46f2aull,
	0x38a17f3e06c23358ull, 0xd39a6953d7d1686full, 0x06369a26ce8527cbull, 0xc79764974b734343ull,
	0xb44e53f57e3f8feeull, 0x5c331d2369d07dc4ull, 0x0824b28889df5479ull, 0xfefb2c7988991c05ull,
	0xce3c374d6157aafaull, 0x3bcd90a0038fd441ull, 0x8f324e7597955010ull, 0x5dd9a9cbcaf314d5ull,
	0x4f5fd4b563b6c8b8ull, 0x841266a38361de85ull, 0x570758a747b6e508ull, 0x9a1815fe7d02c397ull,
	0x35d81100d621b3a3ull, 0x05e3e03b8271c20bull, 0xa46f90b77105b0efull, 0x9acafdc6a5248643ull,
	0x22257ae2c8a39394ull, 0x11e21acbc4a69efeull, 0x6592d44a21627e36ull, 0xba931f5720fd1018ull,
	0xb2445c664bc53f24ull, 0xd90dceb834167912ull, 0x127925dde761bb83ull, 0x5395d47127c6bbb7ull,
	0x9d61c7c041253242ull, 0xed1504981599f79full, 0xa51cc923a3631465ull, 0xa315599cd1ab1f14ull,
	0x9ded69504d1eb875ull, 0x07d1265455c98ecaull, 0xb099ad0e8c41ff21ull, 0x8b5712cb44d22329ull,
	0xaec59622ce8cdf28ull, 0x9e524db4a7d7fd8aull, 0x763ef89ab7ed8467ull, 0x453e72b74f27eac8ull,
	0x4830a14c1f5fe5e1ull, 0xe12f6abe0cfd0828ull, 0x916e8913fb7eab5dull, 0x5d076a98f77164d2ull,
	0xcd15c78cbde8b25aull, 0xc0f35d2510c84e9bull, 0x7245a0e67309602cull, 0x94bdafb2d046eed2ull,
	0x0792730f2ded4670ull, 0x071e1fcc4eea076dull, 0x38fd221192123367ull, 0x7e6d03dd70add738ull,
	0x8f2e697dd214ed23ull, 0x58b998921dd5ff71ull, 0x935ef743c411b253ull, 0x5ac9ec82bcab0200ull,
	0xf16bfde79ce46c0dull, 0xdf5d954ae4b3cf97ull, 0xb3739994144b415bull, 0x852372be9e7b20f2ull,
	0xc5cb8be9f4060949ull, 0xab73a0de9269999full, 0x6f822314bbb90c15ull, 0xaa00915f171c044dull,
	0xf023723f5d5bbcd4ull, 0xab8b74c62055a84cull, 0xef3c29fba9351c19ull, 0x8d424b0bbe6a390bull,
	0x9d233101084ac30eull, 0x3b4a4a477a4153c2ull, 0xfbb617c7471cd28bull, 0x059842d2238eedfaull,
	0x4572f236d3ec7caeull, 0xf0093c658d7773b9ull, 0xd08f1c6d261aecdcull, 0x5bf70d10d25acaa4ull,
	0x440ebcea23c26203ull, 0xc87f96c8ce7453c5ull, 0x09b7ebe6f7152bf9ull, 0x5a173e2fae96a682ull,
	0x3c8ac0acbc27bfd0ull, 0xcda4950484dba29full, 0x8b60c23fde71fe42ull, 0x92b5248c9a747220ull,
	0x30ff155b345d170dull, 0xb6f83c44ab869d18ull, 0xf0b9d0751e137412ull, 0xa8abff55be36d9c3ull,
	0x4422c04e65fdbc7full, 0xa918e038151667cbull, 0x8d1650627616654dull, 0x11a04a41f3f0ad58ull,
	0x5844592e9edf891bull, 0x1637d20e4817f4c6ull, 0x271346ce79101c82ull, 0xc264362723cd4c66ull,
	0x238c464495b8cd2full, 0xa3979c418142e870ull, 0x399670869b547090ull, 0xb4f52e36d0292567ull,
	0x47ed3c01e770a7ffull, 0x53dca7a1999d6519ull, 0xc6758b0aca9ebc59ull, 0xbe904a97aac89e85ull,
	0x8d136acc4c64d2a6ull, 0x29f7be32f84afd79ull, 0x647f0815e477c834ull, 0xc49be16588db19a9ull,
	0x2b9f7d08e5f52e81ull, 0x89d162e60d7d60b8ull, 0x3b66c3fad5e75cd7ull, 0xf0c0c10bb4a678b4ull,
	0x055e43ab1d16ba40ull, 0x6621fbab924a3a17ull, 0x030df3f1e46e5921ull, 0x81c0a8e451093576ull,
	0x47f9030f363911cdull, 0xd98e11c2dce7fae4ull, 0x597ed86426b97ff6ull, 0x13c043a48b154b4full,
	0xedef4abcb5d7b946ull, 0x989773b42eedf16bull, 0x31394b0a32d83e23ull, 0xaba58adfac25dd4cull,
	0x6851d4e1bf546ecfull, 0xca21047bbedaf45full, 0x6e34e316ee17063cull, 0x6cbf793098c6f684ull,
	0x684021670c55661eull, 0x3ae6b3e8fdc35791ull, 0x404a4e2d4a50f431ull, 0x4875c7e9f98d3c0full,
	0x3c2774b0557ae247ull, 0x9d1890becb54312cull, 0x2f12bcf35009c7c8ull, 0x0e3eb0c27da40aadull,
	0x48911a42043aa4fdull, 0x6455dec2afe0d1a1ull, 0x68e7a2d2dcdbcafdull, 0x417d42cebaf611acull,
	0x54850772d42e6b76ull, 0x58a46184513ad1bcull, 0x2de917cd6fff95ceull, 0xa8ff391debbacb50ull,
	0xa7e05aef80358f6bull, 0x1ccf19f99d72102eull, 0xba358b183556e981ull, 0x6973dbc944eace8eull,
	0xe2ecd03f961ac6daull, 0x0e966d944e4181ecull, 0x2488cb34ff014552ull, 0xd588f28f43f2673cull,
	0xc2717a0aa797df00ull, 0xb4b4038498904449ull, 0xa294beb7db1e797full, 0x9a08343b9e543f1aull,
	0x9155d8fd08f69aecull, 0xc83cbaafe0418f03ull, 0x417e3ad42365d199ull, 0xe21cc5f095175ba1ull,
	0xed1a747f40d4dfeeull, 0xb88715e78e66dff6ull, 0x15d4b8fffca89261ull, 0xf11c443a8e6e0a32ull,
	0xb7b1b8dbade091cfull, 0xdf13f374ff12c764ull, 0x08f6f20fc0062feeull, 0xfaca86d4ccea857eull,
	0xa24208093a41943cull, 0x52148ae973fad672ull, 0x316ce49ca4e6cb66ull, 0x5c5f00ac8902f7e4ull,
	0x48298dfa70dc57b6ull, 0x0ce989af7f5653ebull, 0x912e37072c7d42f1ull, 0x266ff564be79dd9dull,
	0x9c3a0d6111c598a3ull, 0x9f84bcfdaf47af2dull, 0x9a70dce1cf87550aull, 0x39db8e297b79470cull,
	0x2b47d2be5d134fd9ull, 0x7326ac19e70a0d30ull, 0x23e8dbee2bb306dfull, 0x3eeca1ce91d06bbcull,
	0x3339be82785a8be3ull, 0x24b41d2dc633cfafull, 0xd616195acb4980a3ull, 0xccd7fa4603f03effull,
	0x1f01035560acebe8ull, 0x06c8064374cbcd75ull, 0x776e549a8ef8cdc8ull, 0xf42542c2de943b55ull,
	0x72f9f77f9563df7dull, 0xad45e00d0a5cc4d8ull, 0x9effb184025abe79ull, 0xd7686abc942b8b55ull,
	0x4e121ba896beb4deull, 0x943c5978e7007ceaull, 0xde4177dc8ece9c99ull, 0x96051ab991c6409bull,
};

/* SPREAD[m]: m bits spread over bits 63..16 (see the top comment). */
static const uint64_t SPREAD[MASK_BITS_MAX + 1] = {
	[ 5] = 0x8040100802000000ull,
	[ 6] = 0x8080808080800000ull,
	[ 7] = 0x8204081020400000ull,
	[ 8] = 0x8208208208200000ull,
	[ 9] = 0x8420842084200000ull,
	[10] = 0x8842108842100000ull,
	[11] = 0x8884442221100000ull,
	[12] = 0x8888888888880000ull,
	[13] = 0x9112224448880000ull,
	[14] = 0x9224489224480000ull,
	[15] = 0x9248924892480000ull,
	[16] = 0x9249249249240000ull,
	[17] = 0xa492924949240000ull,
	[18] = 0xa4a4a4a4a4a40000ull,
	[19] = 0xa5294a5294a40000ull,
	[20] = 0xa94a94a94a940000ull,
	[21] = 0xaa54aa54aa540000ull,
	[22] = 0xaaa554aaa5540000ull,
	[23] = 0xaaaaaa5555540000ull,
	[24] = 0xaaaaaaaaaaaa0000ull,
	[25] = 0xd55555aaaaaa0000ull,
	[26] = 0xd55aaad55aaa0000ull,
	[27] = 0xd5aad5aad5aa0000ull,
};

void enrp_cdc_defaults(struct enrp_cdc_params *p)
{
	p->min_size = ENRP_CDC_MIN_DEFAULT;
	p->avg_size = ENRP_CDC_AVG_DEFAULT;
	p->max_size = ENRP_CDC_MAX_DEFAULT;
}

int enrp_cdc_validate(const struct enrp_cdc_params *p)
{
	if (!p)
		return -EINVAL;
	/* min >= WINDOW so the warm-up never starts before the buffer; these
	 * bounds also keep avg in 2^7..2^25, so both mask bit counts lie in
	 * 5..MASK_BITS_MAX, the entries SPREAD[] has. */
	if (p->min_size < WINDOW || p->min_size >= p->avg_size ||
	    p->avg_size >= p->max_size || p->max_size > MAX_LIMIT)
		return -EINVAL;
	if (p->avg_size & (p->avg_size - 1))
		return -EINVAL;
	return 0;
}

const char *enrp_cdc_gear_id(void)
{
	return "gear-splitmix64-v1";
}

const uint64_t *enrp_cdc_gear_table(void)
{
	return GEAR;
}

/* The strict and loose masks for AVG = 2^k (see the top comment). */
static void masks_for(uint32_t avg, uint64_t *s, uint64_t *l)
{
	unsigned k = (unsigned)__builtin_ctz(avg);

	*s = SPREAD[k + 2];
	*l = SPREAD[k - 2];
}

void enrp_cdc_masks(const struct enrp_cdc_params *p, uint64_t *s, uint64_t *l)
{
	assert(enrp_cdc_validate(p) == 0);
	masks_for(p->avg_size, s, l);
}

/* Hashes BUF[*I..END) into *FP, testing after every byte; returns the chunk
 * length of the first cut point, or 0 (not a valid length) if there is none,
 * with *I == END.
 *
 * Unrolled by four, and not only to save loop overhead: a plain loop is one
 * serial chain fp -> fp * 2 + g per byte, and a scaled LEA has two cycles of
 * latency on several cores, which held a byte-at-a-time loop to about
 * 1 GB/s here.  Expanding four steps, fp4 = (fp << 4) + (g0 << 3) +
 * (g1 << 2) + (g2 << 1) + g3, puts only one shift and one add per four bytes
 * on the chain; the intermediate values tested for cut points hang off it.
 * The arithmetic is exact (mod 2^64), so every position is still tested
 * with exactly the fp the byte-at-a-time definition gives. */
static inline size_t scan(const uint8_t *buf, size_t *ip, size_t end, uint64_t mask,
                          uint64_t *fpp)
{
	uint64_t fp = *fpp;
	size_t i = *ip;

	for (; i + 4 <= end; i += 4) {
		uint64_t g0 = GEAR[buf[i]], g1 = GEAR[buf[i + 1]];
		uint64_t g2 = GEAR[buf[i + 2]], g3 = GEAR[buf[i + 3]];
		uint64_t h01 = (g0 << 1) + g1, h23 = (g2 << 1) + g3;
		uint64_t f0 = (fp << 1) + g0;
		uint64_t f1 = (fp << 2) + h01;
		uint64_t f2 = (fp << 3) + (h01 << 1) + g2;
		uint64_t f3 = (fp << 4) + (h01 << 2) + h23;
		if (!(f0 & mask))
			return i + 1;
		if (!(f1 & mask))
			return i + 2;
		if (!(f2 & mask))
			return i + 3;
		if (!(f3 & mask))
			return i + 4;
		fp = f3;
	}
	for (; i < end; i++) {
		fp = (fp << 1) + GEAR[buf[i]];
		if (!(fp & mask))
			return i + 1;
	}
	*fpp = fp;
	*ip = i;
	return 0;
}

size_t enrp_cdc_next(const struct enrp_cdc_params *p, const uint8_t *buf, size_t n)
{
	size_t min = p->min_size, normal = p->avg_size, cut;
	uint64_t mask_s, mask_l, fp = 0;
	size_t i;

	assert(enrp_cdc_validate(p) == 0);
	masks_for(p->avg_size, &mask_s, &mask_l);

	if (n > p->max_size)
		n = p->max_size;
	if (n <= min)
		return n; /* also n == 0: nothing to cut */
	if (normal > n)
		normal = n;

	/* Warm-up: fill the window ending just before the first candidate. */
	for (i = min - WINDOW; i < min - 1; i++)
		fp = (fp << 1) + GEAR[buf[i]];
	/* Lengths min..normal-1 (bytes up to index normal-2): the strict mask. */
	cut = scan(buf, &i, normal - 1, mask_s, &fp);
	if (cut)
		return cut;
	/* Lengths normal..n: the loose mask. */
	cut = scan(buf, &i, n, mask_l, &fp);
	return cut ? cut : n;
}
