import { LambdaClient } from '@aws-sdk/client-lambda';
import { type Message, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { loadEvent } from './fixtures';

/** The SQS mock of a DLQ replay test file: every SQSClient it makes answers through it. */
export const sqsMock = mockClient(SQSClient);
/** The Lambda mock of a DLQ replay test file. */
export const lambdaMock = mockClient(LambdaClient);
/** The function whose dead letters are replayed. */
export const FUNCTION = 'ecs-cloudmap-registrar-prod-register';
/** Its dead-letter queue. */
export const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/ecs-cloudmap-registrar-prod-register-dlq';
/** A task event as a dead letter carries it. */
export const EVENT = loadEvent('07-fargate-running-multicontainer-service-connect-sdi.json');

/** An SQS message with this id and body (JSON unless a string), received with this handle. */
export const message = (id: string, body: unknown, receiptHandle = `handle-${id}`): Message => ({
  MessageId: id,
  ReceiptHandle: receiptHandle,
  Body: typeof body === 'string' ? body : JSON.stringify(body),
});
/** A response payload as the SDK returns it (bytes that can also give back their text). */
export const blob = (text: string) => Object.assign(new TextEncoder().encode(text), { transformToString: () => text });
/** An SQS error of this name and message. */
export const sqsError = (name: string, text: string) => Object.assign(new Error(text), { name });
