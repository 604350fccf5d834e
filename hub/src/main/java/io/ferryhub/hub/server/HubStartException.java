package io.ferryhub.hub.server;

/** The hub could not start; the message is one line an operator can act on. */
public final class HubStartException extends Exception {
    public HubStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
