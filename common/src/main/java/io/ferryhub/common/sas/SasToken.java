package io.ferryhub.common.sas;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A shared access signature as IoT Hub defines it:
 * {@code SharedAccessSignature sr={resource}&sig={signature}&se={expiry}[&skn={policy}]}, fields in any order.
 *
 * <p>The signature is HMAC-SHA256 over {@code sr + "\n" + se} with the base64-decoded key. Every SDK signs exactly
 * the string it puts in {@code sr}, but they disagree on how that string is encoded (the Java device SDK does not
 * encode it at all), so verification signs the raw {@code sr} first and then its canonical re-encodings.
 */
public final class SasToken {
    public static final String PREFIX = "SharedAccessSignature ";

    private final String rawResource;
    private final String signature;
    private final String rawExpiry;
    private final long expiryEpochSeconds;
    private final String keyName;

    private SasToken(String rawResource, String signature, String rawExpiry, long expiry, String keyName) {
        this.rawResource = rawResource;
        this.signature = signature;
        this.rawExpiry = rawExpiry;
        this.expiryEpochSeconds = expiry;
        this.keyName = keyName;
    }

    /**
     * Parses a token string. Throws {@link IllegalArgumentException} with a reason fit for a log line (and never
     * containing the signature) when the token is malformed.
     */
    public static SasToken parse(String token) {
        if (token == null || token.isEmpty()) {
            throw new IllegalArgumentException("no SAS token");
        }
        if (!token.startsWith(PREFIX)) {
            throw new IllegalArgumentException("token does not start with '" + PREFIX.trim() + " '");
        }
        Map<String, String> fields = new HashMap<>();
        for (String part : token.substring(PREFIX.length()).trim().split("&")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("malformed SAS token field");
            }
            String key = part.substring(0, eq).trim();
            if (fields.put(key, part.substring(eq + 1)) != null) {
                throw new IllegalArgumentException("SAS token field '" + key + "' appears twice");
            }
        }
        String sr = required(fields, "sr");
        String sig = required(fields, "sig");
        String se = required(fields, "se");
        long expiry;
        try {
            expiry = Long.parseLong(se.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("SAS token expiry 'se' is not a number");
        }
        String skn = fields.get("skn");
        if (skn != null) {
            skn = PercentEncoding.decode(skn);
        }
        return new SasToken(sr, PercentEncoding.decode(sig), se, expiry, skn == null || skn.isEmpty() ? null : skn);
    }

    private static String required(Map<String, String> fields, String key) {
        String value = fields.get(key);
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("SAS token has no '" + key + "' field");
        }
        return value;
    }

    /**
     * Creates a token the way the Node and C# SDKs do: the resource URI percent-encoded, then signed.
     *
     * @param resourceUri e.g. {@code myhub.example.com/devices/dev1} (not encoded)
     * @param base64Key   the shared access key, base64
     * @param keyName     the policy name, or null for a device or module key
     */
    public static String create(String resourceUri, String base64Key, String keyName, Instant expiry) {
        String sr = PercentEncoding.encode(resourceUri);
        String se = Long.toString(expiry.getEpochSecond());
        String sig = sign(Base64.getDecoder().decode(base64Key), sr, se);
        StringBuilder token = new StringBuilder(PREFIX)
                .append("sr=").append(sr)
                .append("&sig=").append(PercentEncoding.encode(sig))
                .append("&se=").append(se);
        if (keyName != null) {
            token.append("&skn=").append(PercentEncoding.encode(keyName));
        }
        return token.toString();
    }

    /** Base64 of HMAC-SHA256(key, resource + "\n" + expiry). */
    public static String sign(byte[] key, String resource, String expiry) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            byte[] digest = mac.doFinal((resource + "\n" + expiry).getBytes(StandardCharsets.UTF_8));
            return Base64.getEncoder().encodeToString(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    /**
     * Whether the signature was made with this key. Tries the resource string exactly as sent, then its canonical
     * encodings; every comparison is constant-time.
     */
    public boolean isSignedWith(byte[] key) {
        byte[] presented = signature.getBytes(StandardCharsets.US_ASCII);
        boolean match = false;
        for (String candidate : signedResourceCandidates()) {
            byte[] expected = sign(key, candidate, rawExpiry).getBytes(StandardCharsets.US_ASCII);
            // no early exit: the time taken does not depend on which candidate matched
            match |= MessageDigest.isEqual(expected, presented);
        }
        return match;
    }

    private List<String> signedResourceCandidates() {
        List<String> candidates = new ArrayList<>(4);
        candidates.add(rawResource);
        String decoded = decodedResourceOrRaw();
        addIfNew(candidates, PercentEncoding.encode(decoded));
        addIfNew(candidates, PercentEncoding.encodeLowerHex(decoded));
        addIfNew(candidates, PercentEncoding.encodeLowerHex(decoded.toLowerCase(Locale.ROOT)));
        return candidates;
    }

    private static void addIfNew(List<String> list, String value) {
        if (!list.contains(value)) {
            list.add(value);
        }
    }

    private String decodedResourceOrRaw() {
        try {
            return PercentEncoding.decode(rawResource);
        } catch (IllegalArgumentException e) {
            return rawResource;
        }
    }

    /**
     * The resource URI decoded, without a scheme, without a trailing slash, e.g. {@code myhub.example.com/devices/d1}.
     */
    public String resource() {
        String decoded = decodedResourceOrRaw();
        int scheme = decoded.indexOf("://");
        if (scheme >= 0) {
            decoded = decoded.substring(scheme + 3);
        }
        while (decoded.endsWith("/")) {
            decoded = decoded.substring(0, decoded.length() - 1);
        }
        return decoded;
    }

    public String rawResource() {
        return rawResource;
    }

    public Instant expiry() {
        return Instant.ofEpochSecond(expiryEpochSeconds);
    }

    public boolean isExpiredAt(Instant now) {
        return expiryEpochSeconds <= now.getEpochSecond();
    }

    /** The {@code skn} field: the shared access policy that signed a hub-level token. */
    public Optional<String> keyName() {
        return Optional.ofNullable(keyName);
    }

    /** A description fit for logs: the resource, the policy and the expiry, never the signature. */
    @Override
    public String toString() {
        return "SasToken[sr=" + resource() + (keyName == null ? "" : ", skn=" + keyName) + ", se=" + expiry() + "]";
    }
}
