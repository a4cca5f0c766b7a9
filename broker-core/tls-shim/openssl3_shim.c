/*
 * A tiny shared library, soname "libssl.so", that lets Debian 12's civetweb 1.15 do TLS
 * with OpenSSL 3. civetweb loads "libssl.so" at run time and looks up SSL_get_peer_certificate,
 * which OpenSSL 3 only has as a macro for SSL_get1_peer_certificate; without it every TLS
 * connection jumps to a NULL pointer. The core loads this library first (tls_shim.c), so
 * civetweb's dlopen("libssl.so") finds it by soname, and every other symbol resolves
 * through its dependency on the real libssl.so.3.
 */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate
X509 *SSL_get_peer_certificate(const SSL *ssl);

X509 *SSL_get_peer_certificate(const SSL *ssl)
{
	/* civetweb frees the certificate it gets, as the old function's callers did. */
	return SSL_get1_peer_certificate(ssl);
}
