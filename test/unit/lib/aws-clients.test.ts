import { awsClientConfig, awsEndpointConfig } from '../../../lib/aws-clients';

describe('the AWS client configuration', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('takes the endpoint from the options, else AWS_ENDPOINT_URL_<SERVICE>, else AWS_ENDPOINT_URL', () => {
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:1';
    process.env.AWS_ENDPOINT_URL_ECS = 'http://127.0.0.1:2';
    expect(awsEndpointConfig('ECS', { endpoint: 'http://127.0.0.1:3' }).endpoint).toBe('http://127.0.0.1:3');
    expect(awsEndpointConfig('ECS').endpoint).toBe('http://127.0.0.1:2');
    expect(awsEndpointConfig('EC2').endpoint).toBe('http://127.0.0.1:1');
  });

  it('leaves the endpoint to the SDK when none is set, and turns the host prefix off only with one', () => {
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_ENDPOINT_URL_SERVICEDISCOVERY;
    expect(awsEndpointConfig('SERVICEDISCOVERY')).toEqual({ region: undefined });
    expect(awsEndpointConfig('SERVICEDISCOVERY', { endpoint: 'http://127.0.0.1:4566' })).toMatchObject({
      endpoint: 'http://127.0.0.1:4566',
      disableHostPrefix: true,
    });
  });

  it('gives each client its own copy of the credentials, and adaptive retry with 5 attempts unless told', () => {
    const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
    const config = awsClientConfig('DYNAMODB', { credentials, region: 'us-east-1' });
    expect(config).toMatchObject({ region: 'us-east-1', credentials, retryMode: 'adaptive', maxAttempts: 5 });
    expect(config.credentials).not.toBe(credentials);
    expect(awsClientConfig('LAMBDA', { maxAttempts: 3 }).maxAttempts).toBe(3);
  });
});
