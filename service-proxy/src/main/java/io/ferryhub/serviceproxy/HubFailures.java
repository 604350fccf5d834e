package io.ferryhub.serviceproxy;

import io.netty.handler.ssl.NotSslRecordException;

import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * Says why the hub could not be reached and what to do about it, in the terms of the service proxy's options: the
 * TLS engines' own words ("General OpenSslEngine problem", "PKIX path building failed") do not say that the
 * certificate is not trusted, nor that {@code --ca} is the fix.
 */
final class HubFailures {
    private HubFailures() {
    }

    static String explain(Throwable failure, URI hub) {
        String where = hub.getHost() + ":" + hub.getPort();
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String message = String.valueOf(t.getMessage());
            if (t instanceof CertPathBuilderException || t instanceof CertPathValidatorException
                    || message.contains("PKIX path") || message.contains("unable to find valid certification path")) {
                return "the hub's certificate (" + where + ") is not trusted: pass the CA certificate that issued "
                        + "it with --ca FILE (a FerryHub hub's own CA is ca.pem in its data directory)";
            }
            if (t instanceof CertificateException) {
                return "the hub's certificate (" + where + ") was refused: " + message + "; check the host name "
                        + "in the connection string and --ca";
            }
            if (t instanceof ConnectException) {
                return "cannot connect to the hub at " + where + " (" + message + "): check that the hub runs and "
                        + "that --hub-port is its HTTPS port (default 443)";
            }
            if (t instanceof UnknownHostException) {
                return "unknown host " + hub.getHost() + ": check HostName in the connection string";
            }
            if (t instanceof NotSslRecordException) {
                return where + " does not speak TLS: --hub-port must be the hub's HTTPS port (default 443)";
            }
        }
        String root = rootMessage(failure);
        if (root.contains("closed before the answer")) {
            return root + ": is --hub-port the hub's HTTPS port (default 443)?";
        }
        return root;
    }

    static String rootMessage(Throwable t) {
        while (t.getCause() != null && (t instanceof CompletionException || t instanceof ExecutionException)) {
            t = t.getCause();
        }
        return String.valueOf(t.getMessage());
    }
}
