package io.ferryhub.hub.service.registry;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * How an identity authenticates, as IoT Hub models it.
 *
 * @param type {@code sas}, {@code selfSigned} (X.509 thumbprints), {@code certificateAuthority} (X.509 signed by a
 *             registered CA) or {@code none}
 */
public record Authentication(String type, SymmetricKey symmetricKey, X509Thumbprint x509Thumbprint) {
    public static final String SAS = "sas";
    public static final String SELF_SIGNED = "selfSigned";
    public static final String CERTIFICATE_AUTHORITY = "certificateAuthority";
    public static final String NONE = "none";

    public record SymmetricKey(String primaryKey, String secondaryKey) {
    }

    /** Hex SHA-1 (40 digits) or SHA-256 (64 digits) thumbprints of the identity's certificates, upper case. */
    public record X509Thumbprint(String primaryThumbprint, String secondaryThumbprint) {
    }

    public static Authentication sas(String primaryKey, String secondaryKey) {
        return new Authentication(SAS, new SymmetricKey(primaryKey, secondaryKey), null);
    }

    @JsonIgnore
    public boolean isSas() {
        return SAS.equals(type);
    }
}
