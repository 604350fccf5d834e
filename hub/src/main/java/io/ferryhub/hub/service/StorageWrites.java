package io.ferryhub.hub.service;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** How services wait for a durable write: a storage failure is the caller's 500, never a silent success. */
public final class StorageWrites {
    private static final Logger log = LoggerFactory.getLogger(StorageWrites.class);
    private static final long TIMEOUT_SECONDS = 30;

    private StorageWrites() {
    }

    /** @param what what is being stored, for the error message and the log */
    public static void await(CompletableFuture<Void> write, String what) {
        try {
            write.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            log.error("storing {} failed: {}", what, e.getCause().toString());
            throw new HubException(HubErrorCode.ServerError, "The hub could not store " + what);
        } catch (TimeoutException e) {
            throw new HubException(HubErrorCode.ServiceUnavailable, "The hub's storage did not answer in time");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HubException(HubErrorCode.ServiceUnavailable, "interrupted while storing " + what);
        }
    }
}
