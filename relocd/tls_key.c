// SPDX-License-Identifier: ISC
/*
 * The host's private key, kept out of every process that reads a peer's
 * bytes (OpenBSD relayd's "ca" process, OpenSSH's monitor).
 *
 * Two halves:
 *  - In the key process (keyproc.c): load the key with tls.c's file
 *    checks, hand out its public key, sign a handshake's content.
 *  - In a process that does TLS with a key it does not hold (a network
 *    child, relocd-xl): an OpenSSL 3 provider whose EC key holds only the
 *    certificate's public key, and whose ECDSA signature sends the whole
 *    message to be signed - not a digest of it - over this process's key
 *    channel.  Seeing the whole message is what lets the key process
 *    refuse anything that is not a TLS handshake's signed content.
 *
 * The provider's key cannot be exported: OpenSSL then finds no other
 * provider able to sign with it, and signs through ours.  Every other
 * EC operation (verifying the peer, ECDHE) stays with the default
 * provider, which the default properties prefer.
 *
 * Trust: the key process trusts nothing a channel sends (keyproc.c checks
 * it); a network child trusts the key process's answer only as far as
 * its length.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "tls_impl.h"
#include "tls_key.h"
#include "util.h"

#define TLS_KEY_PROVIDER	"relocd-key"
#define TLS_KEY_PROPQ		"provider=relocd-key"
/* An uncompressed point on the largest curve we name below (P-521). */
#define TLS_KEY_POINT_MAX	133

struct tls_key {
	EVP_PKEY	*pkey;
};

/* The curves a remote key may be on, with what OpenSSL asks of them. */
static const struct {
	const char	*group;
	int		 bits;
	int		 max_sig;	/* DER ECDSA signature */
	const char	*digest;
} tls_key_curves[] = {
	{ "prime256v1", 256, 72, "SHA256" },
	{ "secp384r1", 384, 104, "SHA384" },
	{ "secp521r1", 521, 139, "SHA512" },
};

/* The provider's key: a public key and the curve it is on. */
struct tls_key_pub {
	int		 curve;		/* index into tls_key_curves */
	uint8_t		 point[TLS_KEY_POINT_MAX];
	size_t		 pointlen;
};

/* A signature in progress: the message, whole. */
struct tls_key_op {
	const struct tls_key_pub *key;
	int		 md;
	uint8_t		*tbs;		/* TLS_KEY_TBS_MAX bytes */
	size_t		 len;
	int		 overflow;
};

static int	tls_key_channel = -1;

void
tls_key_set_channel(int fd)
{
	tls_key_channel = fd;
}

/* ---- key management: a public key that can sign (elsewhere) ---- */

static void *
tls_key_km_new(void *provctx)
{
	struct tls_key_pub	*k;

	(void)provctx;
	if ((k = OPENSSL_zalloc(sizeof(*k))) != NULL)
		k->curve = -1;
	return k;
}

static void
tls_key_km_free(void *keydata)
{
	OPENSSL_free(keydata);
}

static int
tls_key_km_has(const void *keydata, int selection)
{
	const struct tls_key_pub	*k = keydata;

	(void)selection;
	/* The private half exists: in the key process. */
	return k != NULL && k->curve >= 0 && k->pointlen > 0;
}

static int
tls_key_km_import(void *keydata, int selection, const OSSL_PARAM params[])
{
	struct tls_key_pub	*k = keydata;
	const OSSL_PARAM	*p;
	char			 group[32], *gp = group;
	void			*pp = k->point;
	size_t			 i;

	(void)selection;
	if ((p = OSSL_PARAM_locate_const(params,
	    OSSL_PKEY_PARAM_GROUP_NAME)) == NULL ||
	    OSSL_PARAM_get_utf8_string(p, &gp, sizeof(group)) != 1)
		return 0;
	for (i = 0; i < sizeof(tls_key_curves) / sizeof(tls_key_curves[0]);
	    i++)
		if (strcmp(group, tls_key_curves[i].group) == 0)
			k->curve = (int)i;
	if (k->curve < 0 ||
	    (p = OSSL_PARAM_locate_const(params,
	    OSSL_PKEY_PARAM_PUB_KEY)) == NULL ||
	    OSSL_PARAM_get_octet_string(p, &pp, sizeof(k->point),
	    &k->pointlen) != 1)
		return 0;
	return 1;
}

static const OSSL_PARAM tls_key_km_types[] = {
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
	OSSL_PARAM_END
};

static const OSSL_PARAM *
tls_key_km_import_types(int selection)
{
	(void)selection;
	return tls_key_km_types;
}

static int
tls_key_km_get_params(void *keydata, OSSL_PARAM params[])
{
	const struct tls_key_pub	*k = keydata;
	OSSL_PARAM			*p;

	if (k->curve < 0)
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_BITS)) != NULL &&
	    !OSSL_PARAM_set_int(p, tls_key_curves[k->curve].bits))
		return 0;
	if ((p = OSSL_PARAM_locate(params,
	    OSSL_PKEY_PARAM_SECURITY_BITS)) != NULL &&
	    !OSSL_PARAM_set_int(p, tls_key_curves[k->curve].bits / 2))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_MAX_SIZE)) != NULL &&
	    !OSSL_PARAM_set_int(p, tls_key_curves[k->curve].max_sig))
		return 0;
	if ((p = OSSL_PARAM_locate(params,
	    OSSL_PKEY_PARAM_GROUP_NAME)) != NULL &&
	    !OSSL_PARAM_set_utf8_string(p, tls_key_curves[k->curve].group))
		return 0;
	if ((p = OSSL_PARAM_locate(params,
	    OSSL_PKEY_PARAM_DEFAULT_DIGEST)) != NULL &&
	    !OSSL_PARAM_set_utf8_string(p, tls_key_curves[k->curve].digest))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_PUB_KEY)) != NULL &&
	    !OSSL_PARAM_set_octet_string(p, k->point, k->pointlen))
		return 0;
	if ((p = OSSL_PARAM_locate(params,
	    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY)) != NULL &&
	    !OSSL_PARAM_set_octet_string(p, k->point, k->pointlen))
		return 0;
	return 1;
}

static const OSSL_PARAM tls_key_km_gettable[] = {
	OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
	OSSL_PARAM_END
};

static const OSSL_PARAM *
tls_key_km_gettable_params(void *provctx)
{
	(void)provctx;
	return tls_key_km_gettable;
}

static int
tls_key_km_match(const void *a, const void *b, int selection)
{
	const struct tls_key_pub	*k1 = a, *k2 = b;

	(void)selection;
	return k1->curve == k2->curve && k1->pointlen == k2->pointlen &&
	    memcmp(k1->point, k2->point, k1->pointlen) == 0;
}

static const char *
tls_key_km_operation(int operation_id)
{
	return operation_id == OSSL_OP_SIGNATURE ? "ECDSA" : NULL;
}

/* No export: that is what keeps every other provider from signing. */
static const OSSL_DISPATCH tls_key_keymgmt[] = {
	{ OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))tls_key_km_new },
	{ OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))tls_key_km_free },
	{ OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))tls_key_km_has },
	{ OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))tls_key_km_import },
	{ OSSL_FUNC_KEYMGMT_IMPORT_TYPES,
	    (void (*)(void))tls_key_km_import_types },
	{ OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))tls_key_km_get_params },
	{ OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS,
	    (void (*)(void))tls_key_km_gettable_params },
	{ OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))tls_key_km_match },
	{ OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME,
	    (void (*)(void))tls_key_km_operation },
	{ 0, NULL }
};

/* ---- signature: the whole message, over the channel ---- */

static void *
tls_key_sig_new(void *provctx, const char *propq)
{
	struct tls_key_op	*op;

	(void)provctx;
	(void)propq;
	if ((op = OPENSSL_zalloc(sizeof(*op))) == NULL)
		return NULL;
	if ((op->tbs = OPENSSL_malloc(TLS_KEY_TBS_MAX)) == NULL) {
		OPENSSL_free(op);
		return NULL;
	}
	return op;
}

static void
tls_key_sig_free(void *ctx)
{
	struct tls_key_op	*op = ctx;

	if (op != NULL)
		OPENSSL_free(op->tbs);
	OPENSSL_free(op);
}

static void *
tls_key_sig_dup(void *ctx)
{
	const struct tls_key_op	*op = ctx;
	struct tls_key_op	*d;

	if ((d = tls_key_sig_new(NULL, NULL)) == NULL)
		return NULL;
	d->key = op->key;
	d->md = op->md;
	d->len = op->len;
	d->overflow = op->overflow;
	memcpy(d->tbs, op->tbs, op->len);
	return d;
}

static int
tls_key_sig_init(void *ctx, const char *mdname, void *keydata,
    const OSSL_PARAM params[])
{
	struct tls_key_op	*op = ctx;

	(void)params;
	op->len = 0;
	op->overflow = 0;
	if (keydata != NULL)
		op->key = keydata;
	if (mdname == NULL || op->key == NULL)
		return 0;
	if (strcasecmp(mdname, "SHA256") == 0 ||
	    strcasecmp(mdname, "SHA2-256") == 0)
		op->md = TLS_KEY_MD_SHA256;
	else if (strcasecmp(mdname, "SHA384") == 0 ||
	    strcasecmp(mdname, "SHA2-384") == 0)
		op->md = TLS_KEY_MD_SHA384;
	else if (strcasecmp(mdname, "SHA512") == 0 ||
	    strcasecmp(mdname, "SHA2-512") == 0)
		op->md = TLS_KEY_MD_SHA512;
	else
		return 0;
	return 1;
}

static int
tls_key_sig_update(void *ctx, const unsigned char *data, size_t len)
{
	struct tls_key_op	*op = ctx;

	if (len > TLS_KEY_TBS_MAX - op->len) {
		op->overflow = 1;
		return 0;
	}
	memcpy(op->tbs + op->len, data, len);
	op->len += len;
	return 1;
}

/* One request, one answer, within TLS_KEY_SIGN_MS. */
static int
tls_key_ask(const struct tls_key_op *op, unsigned char *sig, size_t *siglen,
    size_t sigsize)
{
	struct tls_key_req	*req = NULL;
	struct tls_key_rep	 rep;
	struct pollfd		 pfd = { tls_key_channel, POLLIN, 0 };
	uint64_t		 deadline = util_now_ms() + TLS_KEY_SIGN_MS, now;
	ssize_t			 r;
	int			 rc = 0;

	if (tls_key_channel == -1 || op->overflow ||
	    (req = OPENSSL_malloc(sizeof(*req))) == NULL)
		return 0;
	req->md = (uint32_t)op->md;
	req->len = (uint32_t)op->len;
	memcpy(req->tbs, op->tbs, op->len);
	if (send(tls_key_channel, req, offsetof(struct tls_key_req, tbs) +
	    op->len, MSG_NOSIGNAL) == -1)
		goto out;
	while ((now = util_now_ms()) < deadline) {
		if (poll(&pfd, 1, (int)(deadline - now)) == -1 &&
		    errno != EINTR)
			goto out;
		if (pfd.revents == 0)
			continue;
		r = recv(tls_key_channel, &rep, sizeof(rep), 0);
		if (r < (ssize_t)sizeof(rep.len) || rep.len == 0 ||
		    rep.len > sizeof(rep.sig) || rep.len > sigsize ||
		    (size_t)r != offsetof(struct tls_key_rep, sig) + rep.len)
			goto out;
		memcpy(sig, rep.sig, rep.len);
		*siglen = rep.len;
		rc = 1;
		break;
	}
out:
	OPENSSL_free(req);
	return rc;
}

static int
tls_key_sig_final(void *ctx, unsigned char *sig, size_t *siglen,
    size_t sigsize)
{
	struct tls_key_op	*op = ctx;

	if (sig == NULL) {
		*siglen = (size_t)tls_key_curves[op->key->curve].max_sig;
		return 1;
	}
	return tls_key_ask(op, sig, siglen, sigsize);
}

static int
tls_key_sig_oneshot(void *ctx, unsigned char *sig, size_t *siglen,
    size_t sigsize, const unsigned char *tbs, size_t tbslen)
{
	struct tls_key_op	*op = ctx;

	if (sig == NULL)
		return tls_key_sig_final(ctx, NULL, siglen, 0);
	op->len = 0;
	if (!tls_key_sig_update(ctx, tbs, tbslen))
		return 0;
	return tls_key_ask(op, sig, siglen, sigsize);
}

static int
tls_key_sig_set_params(void *ctx, const OSSL_PARAM params[])
{
	(void)ctx;
	(void)params;
	return 1;
}

static const OSSL_PARAM tls_key_sig_settable_list[] = { OSSL_PARAM_END };

static const OSSL_PARAM *
tls_key_sig_settable(void *ctx, void *provctx)
{
	(void)ctx;
	(void)provctx;
	return tls_key_sig_settable_list;
}

static const OSSL_DISPATCH tls_key_signature[] = {
	{ OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))tls_key_sig_new },
	{ OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))tls_key_sig_free },
	{ OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))tls_key_sig_dup },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT,
	    (void (*)(void))tls_key_sig_init },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE,
	    (void (*)(void))tls_key_sig_update },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL,
	    (void (*)(void))tls_key_sig_final },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN,
	    (void (*)(void))tls_key_sig_oneshot },
	{ OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS,
	    (void (*)(void))tls_key_sig_set_params },
	{ OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS,
	    (void (*)(void))tls_key_sig_settable },
	{ 0, NULL }
};

/* ---- the provider ---- */

static const OSSL_ALGORITHM tls_key_keymgmt_algs[] = {
	{ "EC:id-ecPublicKey:1.2.840.10045.2.1", TLS_KEY_PROPQ,
	    tls_key_keymgmt, "relocd: a key held by the key process" },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM tls_key_signature_algs[] = {
	{ "ECDSA", TLS_KEY_PROPQ, tls_key_signature,
	    "relocd: ECDSA by the key process" },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM *
tls_key_query(void *provctx, int operation_id, int *no_cache)
{
	(void)provctx;
	*no_cache = 0;
	if (operation_id == OSSL_OP_KEYMGMT)
		return tls_key_keymgmt_algs;
	if (operation_id == OSSL_OP_SIGNATURE)
		return tls_key_signature_algs;
	return NULL;
}

static const OSSL_DISPATCH tls_key_provider[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))tls_key_query },
	{ 0, NULL }
};

static int
tls_key_provider_entry(const OSSL_CORE_HANDLE *handle,
    const OSSL_DISPATCH *in, const OSSL_DISPATCH **out, void **provctx)
{
	(void)in;
	*out = tls_key_provider;
	*provctx = (void *)(uintptr_t)handle;
	return 1;
}

/*
 * Loaded once, for the life of the process; kept here, where leak
 * checkers see them still in use.
 */
static OSSL_PROVIDER	*tls_key_default_prov, *tls_key_own_prov;

int
tls_key_provider_init(void)
{
	if (tls_key_own_prov != NULL)
		return 0;
	/*
	 * Loading any provider by hand ends the default provider's
	 * automatic loading, so it is loaded by hand too, and preferred:
	 * ours is only for the keys made with TLS_KEY_PROPQ.
	 */
	if (tls_key_default_prov == NULL &&
	    (OSSL_PROVIDER_add_builtin(NULL, TLS_KEY_PROVIDER,
	    tls_key_provider_entry) != 1 ||
	    (tls_key_default_prov = OSSL_PROVIDER_load(NULL,
	    "default")) == NULL)) {
		ERR_clear_error();
		return -1;
	}
	if (EVP_set_default_properties(NULL, "?provider=default") != 1 ||
	    (tls_key_own_prov = OSSL_PROVIDER_load(NULL,
	    TLS_KEY_PROVIDER)) == NULL) {
		ERR_clear_error();
		return -1;
	}
	return 0;
}

/*
 * The provider's key for the public key in der (a SubjectPublicKeyInfo,
 * as the key process hands it out).  NULL if it is no EC key on a curve
 * named above.
 */
EVP_PKEY *
tls_key_remote(const uint8_t *der, size_t len)
{
	EVP_PKEY	*pub = NULL, *key = NULL;
	EVP_PKEY_CTX	*pctx = NULL;
	OSSL_PARAM	 params[3];
	const uint8_t	*p = der;
	char		 group[32];
	uint8_t		 point[TLS_KEY_POINT_MAX];
	size_t		 pointlen;

	if (tls_key_provider_init() == -1 ||
	    (pub = d2i_PUBKEY(NULL, &p, (long)len)) == NULL ||
	    EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), NULL) != 1 ||
	    EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY,
	    point, sizeof(point), &pointlen) != 1)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, point, pointlen);
	params[2] = OSSL_PARAM_construct_end();
	if ((pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC",
	    TLS_KEY_PROPQ)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		key = NULL;
out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(pctx);
	EVP_PKEY_free(pub);
	return key;
}

/* ---- the key process's half ---- */

struct tls_key *
tls_key_load(const char *path, char *err, size_t errlen)
{
	struct tls_key	*k;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		tls_errf(err, errlen, "out of memory");
		return NULL;
	}
	if ((k->pkey = tls_pkey_load(path, err, errlen)) == NULL) {
		free(k);
		return NULL;
	}
	return k;
}

/* The public key as DER SubjectPublicKeyInfo. */
int
tls_key_public(const struct tls_key *k, uint8_t *buf, size_t size,
    size_t *len_r)
{
	unsigned char	*p = buf;
	int		 n;

	if ((n = i2d_PUBKEY(k->pkey, NULL)) <= 0 || (size_t)n > size ||
	    i2d_PUBKEY(k->pkey, &p) != n) {
		ERR_clear_error();
		return -1;
	}
	*len_r = (size_t)n;
	return 0;
}

int
tls_key_sign(const struct tls_key *k, int md, const uint8_t *tbs,
    size_t len, uint8_t *sig, size_t size, size_t *len_r)
{
	static const char *const mds[] = {
		[TLS_KEY_MD_SHA256] = "SHA256",
		[TLS_KEY_MD_SHA384] = "SHA384",
		[TLS_KEY_MD_SHA512] = "SHA512",
	};
	EVP_MD_CTX	*mctx = NULL;
	size_t		 siglen = size;
	int		 rc = -1;

	if (md <= TLS_KEY_MD_NONE || md > TLS_KEY_MD_SHA512)
		return -1;
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit_ex(mctx, NULL, mds[md], NULL, NULL, k->pkey,
	    NULL) != 1 ||
	    EVP_DigestSign(mctx, sig, &siglen, tbs, len) != 1)
		goto out;
	*len_r = siglen;
	rc = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(mctx);
	return rc;
}

void
tls_key_free(struct tls_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}
