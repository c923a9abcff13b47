package io.transship.storage.s3;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.exception.SdkClientException;

/** The SDK's whole credential-chain dump is not repeated in every failure message. */
class CredentialChainMessageTest {
  @Test
  void missingCredentialsAreOneShortLine() {
    SdkClientException chain =
        SdkClientException.create(
            "Unable to load credentials from any of the providers in the chain"
                + " AwsCredentialsProviderChain(credentialsProviders=[SystemPropertyCredentialsProvider(),"
                + " EnvironmentVariableCredentialsProvider(), WebIdentityTokenCredentialsProvider(),"
                + " ProfileCredentialsProvider(profileName=default), ContainerCredentialsProvider(),"
                + " InstanceProfileCredentialsProvider()]) : [SystemPropertyCredentialsProvider():"
                + " Unable to load credentials from system settings. ...]");

    String first = S3ObjectStore.describe(chain);
    String second = S3ObjectStore.describe(chain);

    assertThat(first).isEqualTo(second).contains("no AWS credentials").hasSizeLessThan(200);
    assertThat(first).doesNotContain("SystemPropertyCredentialsProvider");
  }
}
