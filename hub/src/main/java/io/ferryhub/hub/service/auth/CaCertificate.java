package io.ferryhub.hub.service.auth;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * A certificate authority registered with the hub for X.509 device authentication. It vouches for devices only once
 * {@code verified}: its owner proved possession of its private key by signing a certificate whose subject CN is the
 * {@code verificationCode} the hub issued.
 *
 * @param pem        the CA certificate, PEM
 * @param thumbprint SHA-1, upper-case hex, as IoT Hub shows it
 */
public record CaCertificate(String name, String pem, String subject, String thumbprint, String expiry,
                            boolean verified, String verificationCode, String etag, String created,
                            String updated) {
    @JsonIgnore
    public boolean awaitsProof() {
        return !verified && verificationCode != null;
    }
}
